// A minimal koa-router: `METHOD /path/:param` routes. Like koa-router in Logto, a router's middleware (`use`) only
// runs when one of its routes matches the path; an unknown path falls through (404), a known path with another
// method answers 405 with `Allow`.
export class Router {
  constructor() {
    this.routes = [];
    this.middleware = [];
  }

  use(fn) {
    this.middleware.push(fn);
    return this;
  }

  add(method, path, handler) {
    const names = [];
    const pattern = path.replace(/:(\w+)/g, (_, name) => {
      names.push(name);
      return '([^/]+)';
    });
    this.routes.push({ method, path, regex: new RegExp(`^${pattern}/?$`), names, handler });
    return this;
  }

  get(path, handler) { return this.add('GET', path, handler); }

  post(path, handler) { return this.add('POST', path, handler); }

  put(path, handler) { return this.add('PUT', path, handler); }

  patch(path, handler) { return this.add('PATCH', path, handler); }

  delete(path, handler) { return this.add('DELETE', path, handler); }

  /** Every `METHOD path` this router serves (for the stand-in's own tests). */
  get table() {
    return this.routes.map(({ method, path }) => `${method} ${path}`);
  }

  routesFor(prefix) {
    return async (ctx, next) => {
      if (!ctx.path.startsWith(prefix)) return next();
      const path = ctx.path.slice(prefix.length) || '/';
      const matching = this.routes.filter((route) => route.regex.test(path));
      if (!matching.length) return next();
      const route = matching.find((r) => r.method === ctx.method || (ctx.method === 'HEAD' && r.method === 'GET'));
      if (!route) {
        ctx.status = 405;
        ctx.set('Allow', [...new Set(matching.map((r) => r.method))].join(', '));
        return undefined;
      }
      const values = route.regex.exec(path).slice(1).map(decodeURIComponent);
      ctx.params = Object.fromEntries(route.names.map((name, i) => [name, values[i]]));
      const chain = [...this.middleware, route.handler];
      const run = async (i) => (i < chain.length ? chain[i](ctx, () => run(i + 1)) : undefined);
      return run(0);
    };
  }
}
