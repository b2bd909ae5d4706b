const http = require("http");
const ms = require("ms");

const started = Date.now();
const server = http.createServer((req, res) => {
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify({ service: "node-npm-token", up: ms(Date.now() - started + 1000) }));
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
server.listen(process.env.PORT || 3000, () => console.log("node-npm-token listening"));
