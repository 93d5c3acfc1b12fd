export * from './errors.js';
export * from './config.js';
export * from './client.js';
export * from './server.js';
export { shamirSplit, shamirCombine } from './shamir.js';
export { hararyNeighbours } from './graph.js';
export { derivePairKey, hkdf, type PairKeyPurpose } from './kdf.js';
export {
  Ed25519Signer,
  X25519Secret,
  ed25519Verify,
  x25519PublicKey,
  x25519SharedSecret,
  x25519SharedSecretNacl,
} from './keys.js';
export {
  nodeMaskExpander,
  maskAddNodeSync,
  defaultMaskExpander,
  loadNativeMaskExpander,
  nativeLoadError,
  applyMasks,
  type MaskExpander,
  type MaskJob,
} from './prg.js';
export type { RandomBytes } from './guards.js';
export * from './encoding.js';
export { addPackedWords, packWords, unpackWords, centreModulo } from './packing.js';
export * from './ddg.js';
export { encodeSiteSum, type SiteSumEncoding } from './site-sum.js';
export { deriveRoundSeeds } from './seeds.js';
export {
  SeedFlipClient,
  SeedFlipServer,
  seedCommitment,
  signedSeedCommit,
  commitmentListHash,
  graphSeedOf,
  type AgreedSeed,
} from './seed-flip.js';
export { paddedDimension, rotate, unrotate, rotationSigns, fwht } from './hadamard.js';
export { recommendedNeighbours, type NeighbourhoodChoice } from './params.js';
