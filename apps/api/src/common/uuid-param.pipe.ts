import {
  type ArgumentMetadata,
  BadRequestException,
  ParseUUIDPipe,
  type PipeTransform,
} from '@nestjs/common';

/**
 * A route's UUID parameter. RFC 9562 reads a UUID alike in any letter case, and the service stores every id in
 * lower case: the parameter is handed on in lower case, so that an id copied in capitals finds its row.
 */
export class UuidParamPipe implements PipeTransform<string, Promise<string>> {
  private readonly parse: ParseUUIDPipe;

  /** `message`: the 400's message for a value that is not a UUID. */
  constructor(message: string) {
    this.parse = new ParseUUIDPipe({ exceptionFactory: () => new BadRequestException(message) });
  }

  async transform(value: string, metadata: ArgumentMetadata): Promise<string> {
    return (await this.parse.transform(value, metadata)).toLowerCase();
  }
}
