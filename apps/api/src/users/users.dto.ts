import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { ROLES, type Role } from '@app/config';
import { MIN_PASSWORD_LENGTH } from '@app/accounts';
import { OmittableNotNull } from '../common/omittable-not-null.decorator';

const ROLE_LIST = `roles must hold only these roles: ${ROLES.join(', ')}`;

export class CreateUserDto {
  @ApiProperty({ example: 'alice' })
  @MaxLength(128)
  @IsString()
  username: string;

  @ApiPropertyOptional({ description: 'Unset: a random password is generated and returned once' })
  @OmittableNotNull()
  @MaxLength(72)
  @MinLength(MIN_PASSWORD_LENGTH)
  @IsString()
  password?: string;

  @ApiProperty({ enum: ROLES, isArray: true, example: ['client'] })
  @IsIn(ROLES, { each: true, message: ROLE_LIST })
  @ArrayMaxSize(ROLES.length)
  @ArrayMinSize(1)
  @IsArray()
  roles: Role[];
}

export class UpdateUserDto {
  @ApiPropertyOptional({ enum: ROLES, isArray: true })
  @OmittableNotNull()
  @IsIn(ROLES, { each: true, message: ROLE_LIST })
  @ArrayMaxSize(ROLES.length)
  @ArrayMinSize(1)
  @IsArray()
  roles?: Role[];

  @ApiPropertyOptional({
    description: 'A disabled user cannot log in, and tokens already issued are refused',
  })
  @OmittableNotNull()
  @IsBoolean()
  disabled?: boolean;

  @ApiPropertyOptional({ description: 'A new password; revokes the refresh tokens of the user' })
  @OmittableNotNull()
  @MaxLength(72)
  @MinLength(MIN_PASSWORD_LENGTH)
  @IsString()
  password?: string;
}

export class PrincipalDto {
  @ApiProperty({
    enum: ['user', 'service', 'oidc'],
    description: 'A user of this service, a service token, or a user of a configured OIDC issuer',
  })
  kind: 'user' | 'service' | 'oidc';
  @ApiProperty({ description: 'The user id, the service token id, or <issuer>#<sub>' }) id: string;
  @ApiProperty({ description: 'The username, the service token name, or the OIDC username claim' })
  name: string;
  @ApiProperty({ enum: ROLES, isArray: true }) roles: Role[];
}

export class UserDto {
  @ApiProperty() id: string;
  @ApiProperty() username: string;
  @ApiProperty({ enum: ROLES, isArray: true }) roles: Role[];
  @ApiProperty() disabled: boolean;
  @ApiProperty() createdAt: Date;
  @ApiProperty({ nullable: true, type: Date }) lastLoginAt: Date | null;
}

export class CreatedUserDto {
  @ApiProperty({ type: UserDto }) user: UserDto;
  @ApiPropertyOptional({ description: 'The generated password, when none was given: shown once' })
  password?: string;
}

export class CreateServiceTokenDto {
  @ApiProperty({ example: 'nightly-batch' })
  @MaxLength(128)
  @IsString()
  name: string;

  @ApiProperty({ enum: ROLES, isArray: true, example: ['client'] })
  @IsIn(ROLES, { each: true, message: ROLE_LIST })
  @ArrayMaxSize(ROLES.length)
  @ArrayMinSize(1)
  @IsArray()
  roles: Role[];

  @ApiPropertyOptional({ description: 'Unset: the token does not expire (revoke it when done)' })
  @OmittableNotNull()
  @Max(3650)
  @Min(1)
  @IsInt()
  expiresInDays?: number;
}

export class ServiceTokenDto {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ROLES, isArray: true }) roles: Role[];
  @ApiProperty() createdAt: Date;
  @ApiProperty() createdBy: string;
  @ApiProperty({ nullable: true, type: Date }) expiresAt: Date | null;
  @ApiProperty({ nullable: true, type: Date }) revokedAt: Date | null;
  @ApiProperty({ nullable: true, type: Date }) lastUsedAt: Date | null;
}

export class CreatedServiceTokenDto {
  @ApiProperty({ description: 'The bearer secret: shown once, only its hash is stored' })
  token: string;
  @ApiProperty({ type: ServiceTokenDto }) record: ServiceTokenDto;
}
