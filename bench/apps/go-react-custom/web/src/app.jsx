import { h, render } from "preact";

function App() {
  return <h1>go-react-custom</h1>;
}

render(<App />, document.getElementById("app"));
