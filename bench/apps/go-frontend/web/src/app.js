import { formatTime } from "./format.js";

fetch("/api/time")
  .then((r) => r.json())
  .then((d) => { document.getElementById("now").textContent = formatTime(d.now); });
