# Expert version: the web UI built on Node, the static Go server on distroless.
FROM node:18-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci
COPY web/ ./
RUN npm run build

FROM golang:1.21 AS build
WORKDIR /src
COPY go.mod ./
RUN go mod download
COPY *.go ./
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/server .

FROM gcr.io/distroless/static-debian12:nonroot
WORKDIR /app
COPY --from=build /out/server /usr/local/bin/go-react-custom
COPY --from=web /web/dist ./web/dist
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["go-react-custom"]
