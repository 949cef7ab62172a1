import type { Request } from 'express';
import { bearerToken, peekJwt } from './token-verifier.service';

const req = (authorization?: string) => ({ headers: { authorization } }) as Request;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('bearer token extraction', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer   abc', 'abc'],
    ['Bearer', null],
    ['Bearer a b', null],
    ['Basic dXNlcjpwYXNz', null],
    ['abc', null],
  ])('reads %j as %j', (header, token) => {
    expect(bearerToken(req(header))).toBe(token);
  });
});

describe('peekJwt', () => {
  it('reads alg, kid and iss without verifying anything', () => {
    expect(peekJwt(`${b64({ alg: 'RS256', kid: 'k1' })}.${b64({ iss: 'https://i' })}.sig`)).toEqual({
      alg: 'RS256',
      kid: 'k1',
      iss: 'https://i',
    });
    expect(peekJwt(`${b64({ alg: 'none' })}.${b64({ iss: 'x' })}.`)).toEqual({
      alg: 'none',
      kid: undefined,
      iss: 'x',
    });
  });

  it.each([
    ['not a JWT', 'pcs_abcdef'],
    ['two parts', `${b64({ alg: 'HS256' })}.${b64({})}`],
    ['bad base64 JSON', 'abc.def.ghi'],
    ['a header that is not an object', `${b64([1])}.${b64({})}.x`],
    ['a payload that is a string', `${b64({ alg: 'HS256' })}.${b64('iss')}.x`],
    ['characters outside base64url', `${b64({ alg: 'HS256' })}.${b64({})}+.x`],
  ])('returns undefined for %s', (_case, token) => {
    expect(peekJwt(token)).toBeUndefined();
  });
});
