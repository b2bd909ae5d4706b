const list = document.getElementById("list");
fetch("/api/items")
  .then((r) => r.json())
  .then((items) => { list.innerHTML = items.map((i) => `<li>${i}</li>`).join(""); });
