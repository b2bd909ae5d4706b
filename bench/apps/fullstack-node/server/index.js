const path = require("path");
const express = require("express");
const compression = require("compression");
const api = require("./api");

const app = express();
app.use(compression());
app.use("/api", api);
app.use(express.static(path.join(__dirname, "..", "dist")));
app.get("*", (req, res) => res.sendFile(path.join(__dirname, "..", "dist", "index.html")));

const port = process.env.PORT || 4000;
app.listen(port, () => console.log(`fullstack-node on ${port}`));
