import { distributedClampFromData, localEncodingFromNoise } from '@concord/fedopt';
import type { FederationSettings } from '../federation/settings.js';

/**
 * Issue 20: a simulation knows how many records its sites hold, so it sizes the encoding from the data and the
 * noise (libs/fedopt word-sizing.ts) and the plans it runs derive a narrow SecAgg+ modulus (libs/protocol
 * events/modulus.ts). A spec that sets `encoding` keeps it (local/none); a distributed spec keeps a stored clamp.
 * Mode none has no noise to size from and keeps its encoding.
 */
export function sizeWordsFromData(
  settings: FederationSettings,
  recordsPerSite: number,
  spec: { encoding?: unknown },
): FederationSettings {
  const p = settings.privacy;
  if (p.mode === 'local' && spec.encoding === undefined) {
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
