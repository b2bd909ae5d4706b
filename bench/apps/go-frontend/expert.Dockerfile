# Expert version: the web UI built on Node, embedded into a static Go binary on distroless.
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
COPY . .
COPY --from=web /web/dist ./web/dist
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/go-frontend .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/go-frontend /usr/local/bin/go-frontend
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["go-frontend"]
