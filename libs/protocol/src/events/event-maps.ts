/**
 * Typed socket.io event maps (events named noun:verb). Requests that must arrive use acknowledgements with
 * timeouts; the ack is the reply. Payloads are typed here but VALIDATED on arrival with the zod schemas.
 */
import type {
  AdvertiseKeys,
  ConsistencyRequest,
  ConsistencySignature,
  KeyRoster,
  SeedCommit,
  SeedCommitments,
  SeedReveal,
  SeedReveals,
  ShareKeys,
  ShareRoute,
  UnmaskRequest,
  UnmaskShares,
} from '../secagg/messages.js';
import type {
  AdvertiseRequest,
  AuthChallenge,
  AuthHello,
  AuthProve,
  ErrorReply,
  FederationDone,
  MaskedUpdateReply,
  OkReply,
  RoundAbort,
  RoundPlanMessage,
  RoundResult,
} from './messages.js';

type Ack<T> = (reply: T | ErrorReply) => void;

export interface ClientToServerEvents {
  'auth:hello': (hello: AuthHello, ack: Ack<AuthChallenge>) => void;
  'auth:prove': (prove: AuthProve, ack: Ack<OkReply>) => void;
}

export interface ServerToClientEvents {
  'round:plan': (message: RoundPlanMessage, ack: Ack<OkReply>) => void;
  'secagg:seed-commit': (request: AdvertiseRequest, ack: Ack<SeedCommit>) => void;
  'secagg:seed-reveal': (commitments: SeedCommitments, ack: Ack<SeedReveal>) => void;
  'secagg:advertise': (reveals: SeedReveals, ack: Ack<AdvertiseKeys>) => void;
  'secagg:key-roster': (roster: KeyRoster, ack: Ack<ShareKeys>) => void;
  'secagg:share-route': (route: ShareRoute, ack: Ack<MaskedUpdateReply>) => void;
  'secagg:consistency': (request: ConsistencyRequest, ack: Ack<ConsistencySignature>) => void;
  'secagg:unmask': (request: UnmaskRequest, ack: Ack<UnmaskShares>) => void;
  'round:abort': (abort: RoundAbort) => void;
  'round:result': (result: RoundResult) => void;
  'federation:done': (done: FederationDone) => void;
}

/** The namespace agents connect to. */
export const AGENT_NAMESPACE = '/agents';
