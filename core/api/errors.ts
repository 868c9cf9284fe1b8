/**
 * etcd's client-facing errors, as values. Each carries the gRPC status code and the exact message
 * of etcd's `api/v3rpc/rpctypes/error.go` (v3.4.23), so clients that match on messages (as etcd's
 * Go client does, `rpctypes.Error`) behave the same against detcd. Operating errors are returned,
 * never thrown; a programmer error still throws through `assert`.
 *
 * Where etcd's main branch changed a code, v3.4.23's is kept and the change is noted.
 */

/** gRPC status codes (google.golang.org/grpc/codes). */
export const GrpcCode = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

/** An error as a client sees it: a gRPC status code and etcd's message. Immutable and shared. */
export class EtcdError {
  readonly code: GrpcCode;
  readonly message: string;

  constructor(code: GrpcCode, message: string) {
    this.code = code;
    this.message = message;
    Object.freeze(this);
  }

  toString(): string {
    return `${this.message} (code ${this.code})`;
  }
}

export function isEtcdError(value: unknown): value is EtcdError {
  return value instanceof EtcdError;
}

const error = (code: GrpcCode, message: string) => new EtcdError(code, message);
const { InvalidArgument, OutOfRange, ResourceExhausted, NotFound, FailedPrecondition, Canceled, PermissionDenied, Unauthenticated, Unavailable, DataLoss, DeadlineExceeded } = GrpcCode;

// KV
export const ErrEmptyKey = error(InvalidArgument, 'etcdserver: key is not provided');
/** Also what a txn op with no request set gets (v3rpc `checkRequestOp`: "empty op / nil entry"). */
export const ErrKeyNotFound = error(InvalidArgument, 'etcdserver: key not found');
export const ErrValueProvided = error(InvalidArgument, 'etcdserver: value is provided');
export const ErrLeaseProvided = error(InvalidArgument, 'etcdserver: lease is provided');
export const ErrTooManyOps = error(InvalidArgument, 'etcdserver: too many operations in txn request');
export const ErrDuplicateKey = error(InvalidArgument, 'etcdserver: duplicate key given in txn request');
/** From etcd's main branch (v3rpc `checkRangeRequest`): an unknown sort order or target. */
export const ErrInvalidSortOption = error(InvalidArgument, 'etcdserver: invalid sort option');
export const ErrCompacted = error(OutOfRange, 'etcdserver: mvcc: required revision has been compacted');
export const ErrFutureRev = error(OutOfRange, 'etcdserver: mvcc: required revision is a future revision');
export const ErrNoSpace = error(ResourceExhausted, 'etcdserver: mvcc: database space exceeded');

// Leases
export const ErrLeaseNotFound = error(NotFound, 'etcdserver: requested lease not found');
export const ErrLeaseExist = error(FailedPrecondition, 'etcdserver: lease already exists');
export const ErrLeaseTTLTooLarge = error(OutOfRange, 'etcdserver: too large lease TTL');
/**
 * detcd's own (a known deviation): ids, revisions and counts are JS numbers, so an int64 beyond
 * 2^53 is refused at the API edge instead of being rounded.
 */
export const ErrIntegerTooLarge = error(InvalidArgument, 'etcdserver: integer beyond 2^53 is not supported');

// Watch
export const ErrWatchCanceled = error(Canceled, 'etcdserver: watch canceled');

// Cluster
export const ErrMemberExist = error(FailedPrecondition, 'etcdserver: member ID already exist');
export const ErrPeerURLExist = error(FailedPrecondition, 'etcdserver: Peer URLs already exists');
export const ErrMemberNotEnoughStarted = error(FailedPrecondition, 'etcdserver: re-configuration failed due to not enough started members');
export const ErrMemberBadURLs = error(InvalidArgument, 'etcdserver: given member URLs are invalid');
export const ErrMemberNotFound = error(NotFound, 'etcdserver: member not found');
export const ErrMemberNotLearner = error(FailedPrecondition, 'etcdserver: can only promote a learner member');
export const ErrLearnerNotReady = error(FailedPrecondition, 'etcdserver: can only promote a learner member which is in sync with leader');
export const ErrTooManyLearners = error(FailedPrecondition, 'etcdserver: too many learner members in cluster');

// Requests
export const ErrRequestTooLarge = error(InvalidArgument, 'etcdserver: request is too large');
export const ErrTooManyRequests = error(ResourceExhausted, 'etcdserver: too many requests');

// Auth
export const ErrRootUserNotExist = error(FailedPrecondition, 'etcdserver: root user does not exist');
export const ErrRootRoleNotExist = error(FailedPrecondition, 'etcdserver: root user does not have root role');
export const ErrUserAlreadyExist = error(FailedPrecondition, 'etcdserver: user name already exists');
export const ErrUserEmpty = error(InvalidArgument, 'etcdserver: user name is empty');
export const ErrUserNotFound = error(FailedPrecondition, 'etcdserver: user name not found');
export const ErrRoleAlreadyExist = error(FailedPrecondition, 'etcdserver: role name already exists');
export const ErrRoleNotFound = error(FailedPrecondition, 'etcdserver: role name not found');
export const ErrRoleEmpty = error(InvalidArgument, 'etcdserver: role name is empty');
export const ErrAuthFailed = error(InvalidArgument, 'etcdserver: authentication failed, invalid user ID or password');
export const ErrPermissionDenied = error(PermissionDenied, 'etcdserver: permission denied');
export const ErrRoleNotGranted = error(FailedPrecondition, 'etcdserver: role is not granted to the user');
export const ErrPermissionNotGranted = error(FailedPrecondition, 'etcdserver: permission is not granted to the role');
export const ErrAuthNotEnabled = error(FailedPrecondition, 'etcdserver: authentication is not enabled');
export const ErrInvalidAuthToken = error(Unauthenticated, 'etcdserver: invalid auth token');
export const ErrInvalidAuthMgmt = error(InvalidArgument, 'etcdserver: invalid auth management');
export const ErrAuthOldRevision = error(InvalidArgument, 'etcdserver: revision of auth store is old');

// Server state
export const ErrNoLeader = error(Unavailable, 'etcdserver: no leader');
export const ErrNotLeader = error(FailedPrecondition, 'etcdserver: not leader');
export const ErrLeaderChanged = error(Unavailable, 'etcdserver: leader changed');
/** Unavailable in v3.4.23; FailedPrecondition on etcd's main branch. */
export const ErrNotCapable = error(Unavailable, 'etcdserver: not capable');
export const ErrStopped = error(Unavailable, 'etcdserver: server stopped');
export const ErrTimeout = error(Unavailable, 'etcdserver: request timed out');
export const ErrTimeoutDueToLeaderFail = error(Unavailable, 'etcdserver: request timed out, possibly due to previous leader failure');
export const ErrTimeoutDueToConnectionLost = error(Unavailable, 'etcdserver: request timed out, possibly due to connection lost');
export const ErrTimeoutWaitAppliedIndex = error(Unavailable, 'etcdserver: request timed out, waiting for the applied index took too long');
export const ErrUnhealthy = error(Unavailable, 'etcdserver: unhealthy cluster');
export const ErrCorrupt = error(DataLoss, 'etcdserver: corrupt cluster');
/** Unavailable in v3.4.23; FailedPrecondition on etcd's main branch. */
export const ErrNotSupportedForLearner = error(Unavailable, 'etcdserver: rpc not supported for learner');
export const ErrBadLeaderTransferee = error(FailedPrecondition, 'etcdserver: bad leader transferee');
/** From etcd's main branch: a request whose context was canceled or ran out of time. */
export const ErrCanceled = error(Canceled, 'etcdserver: request canceled');
export const ErrDeadlineExceeded = error(DeadlineExceeded, 'etcdserver: context deadline exceeded');

// Server errors that etcd's gRPC layer does not map (v3rpc `togRPCError` answers them as Unknown
// with the server's own message).
/** A leader transfer that did not finish within the request timeout (etcdserver.ErrTimeoutLeaderTransfer). */
export const ErrTimeoutLeaderTransfer = error(GrpcCode.Unknown, 'etcdserver: request timed out, leader transfer took too long');
/** Raft refused the proposal outright (a leader transferring leadership; etcd-io/raft's ErrProposalDropped): surely not applied. */
export const ErrProposalDropped = error(GrpcCode.Unknown, 'raft proposal dropped');
/**
 * detcd's own: a committed configuration change that no longer fits the configuration in force when
 * it is applied (it would remove the last voter, or enter a joint configuration from a joint one).
 * etcd's single-step changes never meet this; detcd's joint changes can.
 */
export const ErrConfChangeNotApplicable = error(GrpcCode.FailedPrecondition, 'etcdserver: configuration change does not fit the configuration in force');
