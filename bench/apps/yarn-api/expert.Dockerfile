# Expert version: production dependencies from the lock file, compiled JavaScript only.
# (yarn comes from npm: the offline stand-in images do not ship it.)
FROM node:20 AS deps
RUN npm install -g yarn@1.22.22
WORKDIR /app
COPY package.json yarn.lock ./
RUN yarn install --frozen-lockfile --production

FROM node:20 AS build
RUN npm install -g yarn@1.22.22
WORKDIR /app
COPY package.json yarn.lock ./
RUN yarn install --frozen-lockfile
COPY tsconfig.json ./
COPY src ./src
RUN yarn build

FROM node:20-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
EXPOSE 3000
CMD ["node", "dist/server.js"]
