FROM alpine:3.20
WORKDIR /app
COPY build.sh ./
RUN sh build.sh
COPY . .
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/app/www"]
