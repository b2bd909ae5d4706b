# Expert version: production dependencies only, on the slim image, as the node user.
FROM node:18 AS deps
WORKDIR /usr/src/app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM node:18-slim
ENV NODE_ENV=production
WORKDIR /usr/src/app
COPY --from=deps /usr/src/app/node_modules ./node_modules
COPY package.json server.js ./
COPY src ./src
EXPOSE 3000
CMD ["node", "server.js"]
