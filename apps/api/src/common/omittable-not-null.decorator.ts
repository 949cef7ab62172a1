import { ValidateIf } from 'class-validator';

/**
 * A field that may be left out but, when sent, must be valid: unlike `@IsOptional()`, `null` is not taken for
 * "absent", so `{"roles": null}` is refused with the field's own message instead of reaching the code as null.
 */
export const OmittableNotNull = () => ValidateIf((_object, value) => value !== undefined);
