/**
 * The example request bodies of Pixazo's API documentation, verbatim: what a client must send
 * for these parameters and what the simulator must accept. Tests of both sides read them here.
 */
export const SEED_TURBO_FULL_EXAMPLE = {
  prompt:
    "A hyper-realistic close-up of an Omo Valley tribal elder, adorned with white chalk patterns and a headdress of dried flowers, seed pods, and bottle caps. Razor-sharp skin texture with every pore and wrinkle visible. A warm firelight glows in the elder's soulful eyes against a blurred, smoky hut interior, captured in a Leica M6 / Kodak Portra 400 film aesthetic.",
  image_size: 'landscape_4_3',
  num_inference_steps: 8,
  num_images: 1,
  enable_safety_checker: true,
  output_format: 'png',
  acceleration: 'none',
} as const;

export const SEED_BASE_MINIMUM_REQUEST = {
  prompt: 'Grandmother knitting by a window, an empty chair by her',
  image_size: 'landscape_4_3',
} as const;

export const SEED_BASE_FULL_EXAMPLE = {
  ...SEED_BASE_MINIMUM_REQUEST,
  num_inference_steps: 28,
  guidance_scale: 4,
  num_images: 1,
  enable_safety_checker: true,
  output_format: 'png',
  acceleration: 'regular',
} as const;
