import Fastify from "fastify";
import { routes } from "./routes";

const app = Fastify({ logger: false });
app.register(routes);
app.listen({ port: Number(process.env.PORT || 3000), host: "0.0.0.0" }).then(() => console.log("listening"));
