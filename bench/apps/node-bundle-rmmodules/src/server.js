const express = require("express");
const { nanoid } = require("nanoid");
const { greeting } = require("./greeting");

const app = express();
const notes = [];

app.use(express.json());
app.get("/health", (req, res) => res.json({ ok: true }));
app.get("/", (req, res) => res.send(greeting("bundle")));
app.post("/notes", (req, res) => {
  const note = { id: nanoid(8), text: String(req.body.text || "") };
  notes.push(note);
  res.status(201).json(note);
});
app.get("/notes", (req, res) => res.json(notes));

app.listen(process.env.PORT || 3000, () => console.log("listening"));
