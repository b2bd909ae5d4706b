import { useState } from "react";

export function App() {
  const [tasks, setTasks] = useState(["write docs"]);
  const [text, setText] = useState("");
  return (
    <main>
      <h1>Tasks</h1>
      <ul>{tasks.map((t) => <li key={t}>{t}</li>)}</ul>
      <input value={text} onChange={(e) => setText(e.target.value)} />
      <button onClick={() => { setTasks([...tasks, text]); setText(""); }}>add</button>
    </main>
  );
}
