import { distributedClampFromData, localEncodingFromNoise } from '@concord/fedopt';
import type { FederationSettings } from './settings.js';

/**
 * Issue 20: given the records each site holds (a simulation knows them; an operator states them in the spec as
 * `encoding.recordsPerSite`), the encoding is sized from the data and the noise (libs/fedopt word-sizing.ts) and the
 * plans derive a narrow SecAgg+ modulus (libs/protocol events/modulus.ts). A spec that sets `encoding.clip` or
 * `encoding.scaleBits` keeps them (local); a distributed federation keeps a clamp already in its settings. Mode none
 * has no noise to size from and keeps its encoding. The sizes are post-processing of what a site releases (the
 * local clip acts on the noisy delta; the distributed clamp is 1-Lipschitz and inside the sensitivity bound), so a
 * wrong N costs accuracy (a clip that trims signal, or wider words), never privacy.
 */
export function sizeWordsFromData(
  settings: FederationSettings,
  recordsPerSite: number,
  spec: { encoding?: { clip?: unknown; scaleBits?: unknown } },
): FederationSettings {
  if (!(Number.isFinite(recordsPerSite) && recordsPerSite > 0)) {
    throw new RangeError(`recordsPerSite: expected a positive number, got ${recordsPerSite}`);
  }
  const p = settings.privacy;
  const encodingIsSet = spec.encoding?.clip !== undefined || spec.encoding?.scaleBits !== undefined;
  if (p.mode === 'local' && !encodingIsSet) {
    const encoding = localEncodingFromNoise({
      learningRate: settings.optimization.learningRate,
      noiseMultiplier: p.noiseMultiplier,
      clipNorm: p.clipNorm,
      sampleRate: p.sampleRate,
      steps: p.steps,
      recordsPerSite,
    });
    return { ...settings, encoding };
  }
  if (p.mode === 'distributed' && p.clamp === undefined) {
    const clamp = distributedClampFromData({ sampleRate: p.sampleRate, countWeight: p.countWeight, recordsPerSite });
    return { ...settings, privacy: { ...p, clamp } };
  }
  return settings;
}
