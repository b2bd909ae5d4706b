const express = require("express");

const router = express.Router();
const todos = [{ id: 1, title: "try msdfix", done: false }];

router.get("/todos", (req, res) => res.json(todos));
router.post("/todos", (req, res) => {
  const todo = { id: todos.length + 1, title: String(req.body.title || ""), done: false };
  todos.push(todo);
  res.status(201).json(todo);
});

module.exports = { router };
