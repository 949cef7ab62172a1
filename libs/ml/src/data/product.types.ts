/** One product as the models see it, whatever file layout it came from. */
export interface ProductExample {
  designation: string;
  /** Empty string when the listing has no description. */
  description: string;
  /** Absolute path of the product photo, set only when the file exists on disk. */
  imagePath?: string;
  /** Product type code (prdtypecode); absent for unlabelled rows. */
  label?: number;
  productId?: string;
  imageId?: string;
  /** Where the row came from, for error messages and reports (row is 1-based, counting the header as row 1). */
  origin: { file: string; row: number };
}

/** What a caller passes to a trained model at prediction time. */
export interface PredictionInput {
  designation?: string;
  description?: string;
  /** Encoded image bytes (JPEG, PNG or WebP). */
  image?: Buffer;
}
