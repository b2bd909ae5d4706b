const express = require("express");

const router = express.Router();
router.get("/items", (req, res) => res.json(["alpha", "beta", "gamma"]));
router.get("/health", (req, res) => res.send("ok"));
module.exports = router;
