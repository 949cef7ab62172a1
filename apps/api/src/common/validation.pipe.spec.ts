import { BadRequestException } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import { ApiValidationPipe } from './validation.pipe';

class Params {
  @IsOptional()
  @Min(0)
  @Max(5, { message: 'count must be at most 5' })
  @IsInt({ message: 'count must be a whole number' })
  count?: number;

  @IsOptional()
  @IsIn(['a', 'b'], { each: true, message: 'must hold a or b' })
  @IsArray()
  views?: string[];
}

class Item {
  @IsString()
  name: string;
}

class Request {
  @IsString()
  reason: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => Params)
  params?: Params;

  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => Item)
  items?: Item[];
}

/** The messages of the 400 the pipe answers for `body`, or 'accepted'. */
async function messages(body: unknown): Promise<unknown> {
  try {
    await new ApiValidationPipe().transform(body, { type: 'body', metatype: Request });
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    return ((error as BadRequestException).getResponse() as { message: unknown }).message;
  }
}

describe('ApiValidationPipe', () => {
  it('answers one message per field, the first rule it breaks, with its path written once', async () => {
    expect(await messages({ reason: 'x', params: { count: '3' } })).toEqual([
      'params.count must be a whole number',
    ]);
    expect(await messages({ reason: 'x', params: { count: 9 } })).toEqual(['params.count must be at most 5']);
    expect(await messages({ reason: 'x', params: { count: -1 } })).toEqual([
      'params.count must not be less than 0',
    ]);
  });

  it('writes array positions as [i] and puts the path before a message that does not start with the field', async () => {
    expect(
      await messages({ reason: 'x', items: [{ name: 'a' }, { name: 2 }], params: { views: ['c'] } }),
    ).toEqual(['params.views must hold a or b', 'items[1].name must be a string']);
  });

  it('says which field is unknown, and which one should be an object, in the same words everywhere', async () => {
    expect(await messages({ reason: 'x', params: { count: 1, epochs: 3 }, colour: 'red' })).toEqual([
      'colour is not a field of this request',
      'params.epochs is not a field of this request',
    ]);
    expect(await messages({ reason: 'x', params: 'fast', items: [1] })).toEqual([
      'params must be an object',
      'items[0] must be an object',
    ]);
  });

  it('refuses a body that is not a JSON object in one message, and takes no body as an empty one', async () => {
    for (const body of ['text', 3, true, [{ reason: 'x' }]]) {
      expect(await messages(body)).toBe('the request body must be a JSON object');
    }
    expect(await messages(undefined)).toEqual(['reason must be a string']);
    expect(await messages({ reason: 'x' })).toBe('accepted');
  });
});
