import { BadRequestException } from '@nestjs/common';
import { UuidParamPipe } from './uuid-param.pipe';

describe('UuidParamPipe', () => {
  const pipe = new UuidParamPipe('id must be a prediction id (a UUID)');
  const param = { type: 'param', data: 'id' } as const;

  it('hands on a UUID in lower case, whatever case it came in', async () => {
    const id = '019AF3C2-7B1D-7E4A-9C3F-0A1B2C3D4E5F';
    await expect(pipe.transform(id, param)).resolves.toBe(id.toLowerCase());
    await expect(pipe.transform(id.toLowerCase(), param)).resolves.toBe(id.toLowerCase());
  });

  it('refuses anything else with the route’s message', async () => {
    await expect(pipe.transform('nope', param)).rejects.toThrow(
      new BadRequestException('id must be a prediction id (a UUID)'),
    );
  });
});
