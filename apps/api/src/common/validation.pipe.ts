import {
  type ArgumentMetadata,
  BadRequestException,
  Injectable,
  ValidationPipe,
  type ValidationError,
} from '@nestjs/common';

/**
 * Messages class-validator writes about the shape of a body rather than about one rule of a field: they name the
 * field their own way ("property x should not exist", "nested property x must be either object or array").
 */
const SHAPE_MESSAGES: Record<string, (path: string) => string> = {
  whitelistValidation: (path) => `${path} is not a field of this request`,
  nestedValidation: (path) => `${path} must be an object`,
};

/** `alerts` + `0` → `alerts[0]`; `params` + `seed` → `params.seed`. */
function pathOf(parent: string, property: string): string {
  if (/^\d+$/.test(property)) return `${parent}[${property}]`;
  return parent ? `${parent}.${property}` : property;
}

/**
 * A rule's message names its field by its own name (`seed must be…`, as class-validator's defaults do); the
 * answer names it by its path in the body (`params.seed must be…`). A message that does not start with the field's
 * name gets the path in front.
 */
function withPath(message: string, property: string, path: string): string {
  const named = message.startsWith(property) && /^($|[\s.[])/.test(message.slice(property.length));
  return named ? `${path}${message.slice(property.length)}` : `${path} ${message}`;
}

/**
 * One message per field that breaks a rule, with the field's path written once: `params.neuralModels must be…`,
 * `alerts[0].startsAt must be…`. Paired with stopAtFirstError, so that a field reports the first rule it breaks
 * (class-validator runs a property's decorators from the bottom up: DTOs write the type check last).
 */
export function validationMessages(errors: readonly ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = pathOf(parent, error.property);
    const [rule] = Object.entries(error.constraints ?? {});
    const own = rule ? [SHAPE_MESSAGES[rule[0]]?.(path) ?? withPath(rule[1], error.property, path)] : [];
    return [...own, ...validationMessages(error.children ?? [], path)];
  });
}

/**
 * The API's validation of bodies and queries against their DTO classes: unknown fields are refused, values are
 * converted to the DTO's types, and a 400 lists one message per invalid field (validationMessages).
 */
@Injectable()
export class ApiValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      forbidUnknownValues: true,
      stopAtFirstError: true,
      exceptionFactory: (errors) => new BadRequestException(validationMessages(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // class-transformer would turn a string or an array into an empty DTO, answered with every field missing. No
    // body at all is an empty one, as ValidationPipe takes it.
    const notObject = typeof value !== 'object' || Array.isArray(value);
    if (
      metadata.type === 'body' &&
      value !== undefined &&
      value !== null &&
      notObject &&
      this.toValidate(metadata)
    ) {
      throw new BadRequestException('the request body must be a JSON object');
    }
    return super.transform(value, metadata);
  }
}
