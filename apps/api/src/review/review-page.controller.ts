import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Public } from '../auth/auth.decorators';
import { ApiErrors, ERROR_MEANING } from '../common/api-errors.decorator';

/**
 * The page's own policy, stricter than helmet's default for the API: its script and style are files of this
 * origin (no inline script, no inline style, no eval), it calls only this API, shows photos only as blob: URLs
 * made from GET /v1/review/{id}/image, and may not be framed.
 */
export const REVIEW_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'review.js': 'text/javascript; charset=utf-8',
  'review.css': 'text/css; charset=utf-8',
};

/** The page's files: beside the sources, or from the working directory (dist/ does not carry them). */
function pageDir(): string | undefined {
  const candidates = [
    resolve(__dirname, '../../assets/review'),
    resolve(process.cwd(), 'apps/api/assets/review'),
  ];
  return candidates.find((dir) => existsSync(resolve(dir, 'index.html')));
}

/**
 * GET /review: the reviewers' page, plain HTML, CSS and JavaScript files served as they are (no build step). The
 * page itself is public; everything it shows comes from /v1/review with the reviewer's token.
 */
@ApiTags('review')
@Public()
@Controller('review')
export class ReviewPageController {
  private readonly files = new Map<string, Buffer>();

  constructor() {
    const dir = pageDir();
    if (!dir) return;
    for (const name of Object.keys(FILES)) this.files.set(name, readFileSync(resolve(dir, name)));
  }

  @Get()
  @ApiOperation({
    summary: 'The reviewers’ web page',
    description:
      'Log in with a reviewer account, then label one listing at a time (keys 1-3, Enter, S). Served with a ' +
      'Content-Security-Policy that allows only this origin’s script and style.',
  })
  @ApiOkResponse({ description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } })
  @ApiErrors({ 404: 'The page’s files are not installed beside the API', 429: ERROR_MEANING.rateLimited })
  page(@Res() res: Response): void {
    this.send(res, 'index.html');
  }

  @Get(':file')
  @ApiOperation({ summary: 'The review page’s script and style sheet' })
  @ApiParam({ name: 'file', enum: ['review.js', 'review.css'] })
  @ApiOkResponse({
    description: 'The file',
    content: {
      'text/javascript': { schema: { type: 'string' } },
      'text/css': { schema: { type: 'string' } },
    },
  })
  @ApiErrors({ 404: 'No such file of the page', 429: ERROR_MEANING.rateLimited })
  @Header('Cache-Control', 'no-cache')
  asset(@Param('file') file: string, @Res() res: Response): void {
    this.send(res, file);
  }

  private send(res: Response, name: string): void {
    const body = this.files.get(name);
    if (!body) throw new NotFoundException(`The review page has no file ${JSON.stringify(name)}`);
    res.setHeader('Content-Type', FILES[name]);
    res.setHeader('Content-Security-Policy', REVIEW_PAGE_CSP);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-cache');
    res.send(body);
  }
}
