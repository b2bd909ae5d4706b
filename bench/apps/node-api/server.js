const express = require("express");
const morgan = require("morgan");
const { router } = require("./src/routes");

const app = express();
app.use(morgan("tiny"));
app.use(express.json());
app.use("/api", router);
app.get("/", (req, res) => res.json({ service: "node-api", ok: true }));

const port = process.env.PORT || 3000;
app.listen(port, () => console.log(`node-api listening on ${port}`));
