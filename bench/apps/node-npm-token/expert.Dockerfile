# Expert version: production dependencies in their own stage, the slim image at run time.
FROM node:18 AS deps
WORKDIR /app
ARG NPM_TOKEN
COPY .npmrc package.json package-lock.json ./
RUN npm ci --omit=dev

FROM node:18-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json server.js ./
EXPOSE 3000
CMD ["node", "server.js"]
