import { Module } from '@nestjs/common';
import { ServingModule } from '../serving/serving.module';
import { ReviewPageController } from './review-page.controller';
import { ReviewController } from './review.controller';
import { ReviewIntake } from './review.intake';
import { ReviewService } from './review.service';

@Module({
  imports: [ServingModule],
  controllers: [ReviewController, ReviewPageController],
  providers: [ReviewService, ReviewIntake],
  exports: [ReviewIntake],
})
export class ReviewModule {}
