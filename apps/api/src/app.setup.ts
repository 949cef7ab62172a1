import { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppConfig } from '@app/config';
import {
  applyHttpSecurity,
  SWAGGER_UI_OPTIONS,
  withOperationSecurity,
  withSecuritySchemes,
} from './auth/http-security.setup';
import { LoadShedder } from './admission/load.shedder';
import { DomainExceptionFilter } from './common/domain-exception.filter';
import { NestingDepthPipe } from './common/nesting-depth.pipe';
import { NulCharacterPipe } from './common/nul-character.pipe';
import { requestContext } from './common/request-context.middleware';
import { ApiValidationPipe } from './common/validation.pipe';
import { ShutdownCoordinator } from './health/shutdown.coordinator';

/**
 * Everything about the HTTP surface that is not a controller: body limits, validation, the error shape and
 * OpenAPI. Shared by main.ts and the end-to-end tests so that tests exercise the real configuration.
 */
export function configureApp(app: INestApplication): void {
  const config = app.get(AppConfig);
  const express = app as NestExpressApplication;
  // Before the body parsers: a request refused under overload costs no parsing.
  express.use(app.get(LoadShedder).admit);
  express.useBodyParser('json', { limit: config.env.MAX_BODY_BYTES });
  express.useBodyParser('urlencoded', { limit: config.env.MAX_BODY_BYTES, extended: false });
  express.disable('x-powered-by');
  express.use(app.get(ShutdownCoordinator).closeConnectionsWhenDraining);
  // After the body parsers: a context entered before them would be lost while the body streams in.
  express.use(requestContext);
  applyHttpSecurity(app);
  app.useGlobalPipes(new NestingDepthPipe(), new NulCharacterPipe(), new ApiValidationPipe());
  app.useGlobalFilters(new DomainExceptionFilter());
  const document = withOperationSecurity(
    app,
    SwaggerModule.createDocument(
      app,
      withSecuritySchemes(new DocumentBuilder())
        .setTitle('Product classifier')
        .setDescription(
          'Classifies e-commerce products into product type codes from their title, description and photo, ' +
            'and manages the model versions that answer.',
        )
        .setVersion('1')
        // package.json's licence: proprietary, no rights granted; the link says what npm means by it.
        .setLicense('UNLICENSED', 'https://docs.npmjs.com/cli/configuring-npm/package-json#license')
        // Relative: the API answers wherever /docs was loaded from (a replica, a load balancer, localhost).
        .addServer('/', 'This service')
        .build(),
    ),
  );
  // PUBLIC_DOCS=false: /docs and /docs-json are not served at all.
  if (config.env.PUBLIC_DOCS) SwaggerModule.setup('docs', app, document, SWAGGER_UI_OPTIONS);
}
