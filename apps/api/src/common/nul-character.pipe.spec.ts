import { BadRequestException } from '@nestjs/common';
import { NulCharacterPipe, nulCharacterAt } from './nul-character.pipe';

describe('NUL characters', () => {
  it('finds one in a string or a key at any depth, and says where', () => {
    expect(nulCharacterAt({ designation: 'livre' }, '')).toBeUndefined();
    expect(nulCharacterAt('a\u0000b', '')).toBe('');
    expect(nulCharacterAt({ designation: 'a\u0000' }, '')).toBe('designation');
    expect(nulCharacterAt({ alerts: [{}, { labels: { alertname: '\u0000' } }] }, '')).toBe(
      'alerts[1].labels.alertname',
    );
    expect(nulCharacterAt({ labels: { 'a\u0000': 'x' } }, '')).toBe('labels.a\u0000');
    expect(nulCharacterAt('v1\u0000', 'version')).toBe('version');
  });

  it('refuses bodies, path parameters and queries that hold one, with 400 naming the field', () => {
    const pipe = new NulCharacterPipe();
    const refused = (value: unknown, metadata: Parameters<NulCharacterPipe['transform']>[1]) => {
      try {
        pipe.transform(value, metadata);
      } catch (error) {
        expect(error).toBeInstanceOf(BadRequestException);
        return (error as BadRequestException).message;
      }
      return 'accepted';
    };
    expect(refused({ items: [{ designation: 'x\u0000' }] }, { type: 'body' })).toBe(
      'items[0].designation must not contain the NUL character (\\u0000)',
    );
    expect(refused('\u0000', { type: 'body' })).toBe(
      'the request body must not contain the NUL character (\\u0000)',
    );
    expect(refused('\u0000', { type: 'param', data: 'version' })).toMatch(/^version must not contain/);
    expect(refused('5\u0000', { type: 'query', data: 'limit' })).toMatch(/^limit must not contain/);
    expect(refused({ designation: 'é\ud800' }, { type: 'body' })).toBe('accepted');
  });
});
