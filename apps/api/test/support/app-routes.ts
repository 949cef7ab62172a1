import { type INestApplication, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import { ACCESS_RULE, type AccessRule } from '../../src/auth/auth.decorators';

/** A route as the app really serves it, from its controller's metadata. */
export interface AppRoute {
  /** `post /v1/predictions/{id}/feedback`: the method and the path as OpenAPI writes it. */
  key: string;
  method: string;
  path: string;
  rule: AccessRule | undefined;
  /** The class of the handler's `@Body()`, `@Query()` argument (Object or String when it takes it raw). */
  body?: unknown;
  query?: unknown;
  /** Path parameters with pipes of their own (ParseUUIDPipe). */
  validatedParams: boolean;
}

/** Every route of every controller the app registered. */
export function appRoutes(app: INestApplication): AppRoute[] {
  const found: AppRoute[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      const controller = metatype as unknown as { prototype: Record<string, unknown> } & object;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      for (const name of Object.getOwnPropertyNames(controller.prototype)) {
        const handler = controller.prototype[name];
        if (typeof handler !== 'function' || Reflect.getMetadata(METHOD_METADATA, handler) === undefined)
          continue;
        const path =
          `/${[base, String(Reflect.getMetadata(PATH_METADATA, handler))].filter((p) => p && p !== '/').join('/')}`
            .replace(/\/+/g, '/')
            .replace(/:(\w+)/g, '{$1}');
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number].toLowerCase();
        const args = Object.entries(
          (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<
            string,
            { index: number; pipes: unknown[] }
          >,
        );
        const types = (Reflect.getMetadata('design:paramtypes', controller.prototype, name) ??
          []) as unknown[];
        const ofType = (type: RouteParamtypes) => args.filter(([key]) => key.startsWith(`${type}:`));
        const typeOf = (type: RouteParamtypes) => {
          const [arg] = ofType(type);
          return arg ? types[arg[1].index] : undefined;
        };
        found.push({
          key: `${method} ${path}`,
          method,
          path,
          rule: Reflect.getMetadata(ACCESS_RULE, handler) ?? Reflect.getMetadata(ACCESS_RULE, controller),
          body: typeOf(RouteParamtypes.BODY),
          query: typeOf(RouteParamtypes.QUERY),
          validatedParams: ofType(RouteParamtypes.PARAM).some(([, arg]) => arg.pipes.length > 0),
        });
      }
    }
  }
  return found;
}
