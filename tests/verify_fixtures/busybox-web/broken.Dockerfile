FROM alpine:3.20
WORKDIR /app
COPY . .
RUN sh build.sh && echo "msdfix-test: deliberate failure" && false
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/app/www"]
