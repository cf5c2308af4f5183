/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** What is wrong at a broken link of the decision log (docs/audit.md). */
export type DecisionChainProblem =
  /** The chain sequence repeats the previous decision's. */
  | 'DUPLICATE_SEQ'
  /** The stored hash is not the hash of the stored fields: this decision was changed. */
  | 'HASH_MISMATCH'
  /** The chain sequence goes back. */
  | 'OUT_OF_ORDER'
  /** prevHash is not the previous decision's hash: a decision before it was changed, removed or inserted. */
  | 'PREV_HASH_MISMATCH'
  /** The chain sequence skips ahead: decisions before this one were deleted. */
  | 'SEQUENCE_GAP';

export type RolloutStatus =
  | 'ABORTED'
  | 'FAILED'
  | 'PAUSED'
  | 'PENDING'
  | 'PROGRESSING'
  | 'ROLLED_BACK'
  | 'ROLLING_BACK'
  | 'SUCCEEDED';

export type StepKind =
  | 'ANALYZE'
  | 'PAUSE'
  | 'SET_WEIGHT';

export type StepStatus =
  | 'COMPLETED'
  | 'PENDING'
  | 'RUNNING'
  | 'SKIPPED';

export type TokenScope =
  | 'ADMIN'
  | 'OPERATE'
  | 'READ';

export type Verdict =
  | 'FAIL'
  | 'INCONCLUSIVE'
  | 'PASS';

export type CliApplicationsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type CliApplicationsQuery = { applications: { edges: Array<{ node: { id: string, name: string, stableVersion: string | null, spec: unknown, createdAt: string, updatedAt: string, rollouts: { edges: Array<{ node: { id: string, toVersion: string, status: RolloutStatus, canaryWeight: number } }> } } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type CliApplyApplicationMutationVariables = Exact<{
  spec: unknown;
}>;


export type CliApplyApplicationMutation = { applyApplication: { id: string, name: string, stableVersion: string | null, createdAt: string, updatedAt: string } };

export type CliAuditVerifyQueryVariables = Exact<{
  rollout?: string | number | null | undefined;
  after?: string | null | undefined;
  limit?: number | null | undefined;
}>;


export type CliAuditVerifyQuery = { auditVerify: { ok: boolean, rolloutsChecked: number, decisionsChecked: number, brokenRollouts: number, next: string | null, firstBroken: { rolloutId: string, chainSeq: number, decisionId: string, problem: DecisionChainProblem, expected: string, actual: string, message: string } | null, head: { rolloutId: string, chainSeq: number, decisionId: string, hash: string } | null } };

export type CliRolloutSummaryFragment = { id: string, applicationName: string, fromVersion: string | null, toVersion: string, status: RolloutStatus, canaryWeight: number, currentStepIndex: number };

export type CliStartRolloutMutationVariables = Exact<{
  application: string;
  version: string;
}>;


export type CliStartRolloutMutation = { startRollout: { id: string, applicationName: string, fromVersion: string | null, toVersion: string, status: RolloutStatus, canaryWeight: number, currentStepIndex: number } };

export type CliPromoteRolloutMutationVariables = Exact<{
  id: string | number;
  full?: boolean | null | undefined;
}>;


export type CliPromoteRolloutMutation = { promoteRollout: { id: string, applicationName: string, fromVersion: string | null, toVersion: string, status: RolloutStatus, canaryWeight: number, currentStepIndex: number } };

export type CliPauseRolloutMutationVariables = Exact<{
  id: string | number;
  reason?: string | null | undefined;
}>;


export type CliPauseRolloutMutation = { pauseRollout: { id: string, applicationName: string, fromVersion: string | null, toVersion: string, status: RolloutStatus, canaryWeight: number, currentStepIndex: number } };

export type CliResumeRolloutMutationVariables = Exact<{
  id: string | number;
}>;


export type CliResumeRolloutMutation = { resumeRollout: { id: string, applicationName: string, fromVersion: string | null, toVersion: string, status: RolloutStatus, canaryWeight: number, currentStepIndex: number } };

export type CliRollbackRolloutMutationVariables = Exact<{
  id: string | number;
  reason?: string | null | undefined;
}>;


export type CliRollbackRolloutMutation = { rollbackRollout: { id: string, applicationName: string, fromVersion: string | null, toVersion: string, status: RolloutStatus, canaryWeight: number, currentStepIndex: number } };

export type CliAbortRolloutMutationVariables = Exact<{
  id: string | number;
  reason?: string | null | undefined;
}>;


export type CliAbortRolloutMutation = { abortRollout: { id: string, applicationName: string, fromVersion: string | null, toVersion: string, status: RolloutStatus, canaryWeight: number, currentStepIndex: number } };

export type CliRolloutsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  application?: string | null | undefined;
  status?: Array<RolloutStatus> | RolloutStatus | null | undefined;
}>;


export type CliRolloutsQuery = { rollouts: { edges: Array<{ node: { id: string, applicationName: string, fromVersion: string | null, toVersion: string, status: RolloutStatus, canaryWeight: number, currentStepIndex: number, createdAt: string, startedAt: string | null, finishedAt: string | null, steps: Array<{ index: number }>, lastDecision: { at: string, action: string, actor: string, reason: string } | null } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type CliRolloutDetailFragment = { id: string, applicationName: string, fromVersion: string | null, toVersion: string, status: RolloutStatus, canaryWeight: number, desiredWeight: number, currentStepIndex: number, seq: number, createdAt: string, startedAt: string | null, stepStartedAt: string | null, finishedAt: string | null, steps: Array<{ index: number, kind: StepKind, status: StepStatus, setWeight: number | null, analyzeMin: string | null, analyzeMax: string | null, pauseDuration: string | null, startedAt: string | null, finishedAt: string | null }>, gates: Array<{ name: string, signal: string | null, provider: string | null, query: string | null, dryRun: boolean, judge: unknown, lastResult: { at: string, verdict: Verdict, value: number | null, reason: string } | null }>, decisions: Array<{ seq: number, at: string, action: string, actor: string, reason: string, stepIndex: number, fromWeight: number, toWeight: number }> };

export type CliRolloutQueryVariables = Exact<{
  id: string | number;
}>;


export type CliRolloutQuery = { rollout: { id: string, applicationName: string, fromVersion: string | null, toVersion: string, status: RolloutStatus, canaryWeight: number, desiredWeight: number, currentStepIndex: number, seq: number, createdAt: string, startedAt: string | null, stepStartedAt: string | null, finishedAt: string | null, steps: Array<{ index: number, kind: StepKind, status: StepStatus, setWeight: number | null, analyzeMin: string | null, analyzeMax: string | null, pauseDuration: string | null, startedAt: string | null, finishedAt: string | null }>, gates: Array<{ name: string, signal: string | null, provider: string | null, query: string | null, dryRun: boolean, judge: unknown, lastResult: { at: string, verdict: Verdict, value: number | null, reason: string } | null }>, decisions: Array<{ seq: number, at: string, action: string, actor: string, reason: string, stepIndex: number, fromWeight: number, toWeight: number }> } | null };

export type CliRolloutChangedSubscriptionVariables = Exact<{
  id: string | number;
}>;


export type CliRolloutChangedSubscription = { rolloutChanged: { id: string, applicationName: string, fromVersion: string | null, toVersion: string, status: RolloutStatus, canaryWeight: number, desiredWeight: number, currentStepIndex: number, seq: number, createdAt: string, startedAt: string | null, stepStartedAt: string | null, finishedAt: string | null, steps: Array<{ index: number, kind: StepKind, status: StepStatus, setWeight: number | null, analyzeMin: string | null, analyzeMax: string | null, pauseDuration: string | null, startedAt: string | null, finishedAt: string | null }>, gates: Array<{ name: string, signal: string | null, provider: string | null, query: string | null, dryRun: boolean, judge: unknown, lastResult: { at: string, verdict: Verdict, value: number | null, reason: string } | null }>, decisions: Array<{ seq: number, at: string, action: string, actor: string, reason: string, stepIndex: number, fromWeight: number, toWeight: number }> } };

export type CliViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type CliViewerQuery = { viewer: { name: string, scope: TokenScope } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const CliRolloutSummaryFragmentDoc = new TypedDocumentString(`
    fragment CliRolloutSummary on Rollout {
  id
  applicationName
  fromVersion
  toVersion
  status
  canaryWeight
  currentStepIndex
}
    `, {"fragmentName":"CliRolloutSummary"}) as unknown as TypedDocumentString<CliRolloutSummaryFragment, unknown>;
export const CliRolloutDetailFragmentDoc = new TypedDocumentString(`
    fragment CliRolloutDetail on Rollout {
  id
  applicationName
  fromVersion
  toVersion
  status
  canaryWeight
  desiredWeight
  currentStepIndex
  seq
  createdAt
  startedAt
  stepStartedAt
  finishedAt
  steps {
    index
    kind
    status
    setWeight
    analyzeMin
    analyzeMax
    pauseDuration
    startedAt
    finishedAt
  }
  gates {
    name
    signal
    provider
    query
    dryRun
    judge
    lastResult {
      at
      verdict
      value
      reason
    }
  }
  decisions(last: 50) {
    seq
    at
    action
    actor
    reason
    stepIndex
    fromWeight
    toWeight
  }
}
    `, {"fragmentName":"CliRolloutDetail"}) as unknown as TypedDocumentString<CliRolloutDetailFragment, unknown>;
export const CliApplicationsDocument = new TypedDocumentString(`
    query CliApplications($first: Int, $after: String) {
  applications(first: $first, after: $after) {
    edges {
      node {
        id
        name
        stableVersion
        spec
        createdAt
        updatedAt
        rollouts(first: 1) {
          edges {
            node {
              id
              toVersion
              status
              canaryWeight
            }
          }
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    `, {"hash":"sha256:743fdfbe1950856d5fce81862833f9ca4bb3974f784b503338ec215e55697643"}) as unknown as TypedDocumentString<CliApplicationsQuery, CliApplicationsQueryVariables>;
export const CliApplyApplicationDocument = new TypedDocumentString(`
    mutation CliApplyApplication($spec: JSON!) {
  applyApplication(spec: $spec) {
    id
    name
    stableVersion
    createdAt
    updatedAt
  }
}
    `, {"hash":"sha256:af696226f4a65162ec6d84c261d9ed27daef6ff52d2c8e753bb784f2e041262a"}) as unknown as TypedDocumentString<CliApplyApplicationMutation, CliApplyApplicationMutationVariables>;
export const CliAuditVerifyDocument = new TypedDocumentString(`
    query CliAuditVerify($rollout: ID, $after: String, $limit: Int) {
  auditVerify(rollout: $rollout, after: $after, limit: $limit) {
    ok
    rolloutsChecked
    decisionsChecked
    brokenRollouts
    firstBroken {
      rolloutId
      chainSeq
      decisionId
      problem
      expected
      actual
      message
    }
    head {
      rolloutId
      chainSeq
      decisionId
      hash
    }
    next
  }
}
    `, {"hash":"sha256:1edc7acc434a395e19d253cf415fe662a690fa3113506f64caff0855f31df8bc"}) as unknown as TypedDocumentString<CliAuditVerifyQuery, CliAuditVerifyQueryVariables>;
export const CliStartRolloutDocument = new TypedDocumentString(`
    mutation CliStartRollout($application: String!, $version: String!) {
  startRollout(application: $application, version: $version) {
    ...CliRolloutSummary
  }
}
    fragment CliRolloutSummary on Rollout {
  id
  applicationName
  fromVersion
  toVersion
  status
  canaryWeight
  currentStepIndex
}`, {"hash":"sha256:81f5b86676ba10071837e449a071d33b60f1ea0e5e6ca7ad1822dc7a5c53ee61"}) as unknown as TypedDocumentString<CliStartRolloutMutation, CliStartRolloutMutationVariables>;
export const CliPromoteRolloutDocument = new TypedDocumentString(`
    mutation CliPromoteRollout($id: ID!, $full: Boolean) {
  promoteRollout(id: $id, full: $full) {
    ...CliRolloutSummary
  }
}
    fragment CliRolloutSummary on Rollout {
  id
  applicationName
  fromVersion
  toVersion
  status
  canaryWeight
  currentStepIndex
}`, {"hash":"sha256:c51bfce76bc53582948b3c83415e6b7cacb885a5012a8e0ab3949f657be3fa5e"}) as unknown as TypedDocumentString<CliPromoteRolloutMutation, CliPromoteRolloutMutationVariables>;
export const CliPauseRolloutDocument = new TypedDocumentString(`
    mutation CliPauseRollout($id: ID!, $reason: String) {
  pauseRollout(id: $id, reason: $reason) {
    ...CliRolloutSummary
  }
}
    fragment CliRolloutSummary on Rollout {
  id
  applicationName
  fromVersion
  toVersion
  status
  canaryWeight
  currentStepIndex
}`, {"hash":"sha256:6ac74b77f9d0a92770b4860d5322dd6e454a7d986e03468327fb8e7014e9bdb9"}) as unknown as TypedDocumentString<CliPauseRolloutMutation, CliPauseRolloutMutationVariables>;
export const CliResumeRolloutDocument = new TypedDocumentString(`
    mutation CliResumeRollout($id: ID!) {
  resumeRollout(id: $id) {
    ...CliRolloutSummary
  }
}
    fragment CliRolloutSummary on Rollout {
  id
  applicationName
  fromVersion
  toVersion
  status
  canaryWeight
  currentStepIndex
}`, {"hash":"sha256:02cc9028ebe91ec15c3113f2fa137446c3711a07d7c571a8c45f9ce2f91586ae"}) as unknown as TypedDocumentString<CliResumeRolloutMutation, CliResumeRolloutMutationVariables>;
export const CliRollbackRolloutDocument = new TypedDocumentString(`
    mutation CliRollbackRollout($id: ID!, $reason: String) {
  rollbackRollout(id: $id, reason: $reason) {
    ...CliRolloutSummary
  }
}
    fragment CliRolloutSummary on Rollout {
  id
  applicationName
  fromVersion
  toVersion
  status
  canaryWeight
  currentStepIndex
}`, {"hash":"sha256:19d3ec0987cc8de2b536e4461ab7b59ea456088da862abeddc5eb76692486804"}) as unknown as TypedDocumentString<CliRollbackRolloutMutation, CliRollbackRolloutMutationVariables>;
export const CliAbortRolloutDocument = new TypedDocumentString(`
    mutation CliAbortRollout($id: ID!, $reason: String) {
  abortRollout(id: $id, reason: $reason) {
    ...CliRolloutSummary
  }
}
    fragment CliRolloutSummary on Rollout {
  id
  applicationName
  fromVersion
  toVersion
  status
  canaryWeight
  currentStepIndex
}`, {"hash":"sha256:d5a70434ee68df4faa73f9688901b01b6ffb2450f579c96e56e3c25442925186"}) as unknown as TypedDocumentString<CliAbortRolloutMutation, CliAbortRolloutMutationVariables>;
export const CliRolloutsDocument = new TypedDocumentString(`
    query CliRollouts($first: Int, $after: String, $application: String, $status: [RolloutStatus!]) {
  rollouts(
    first: $first
    after: $after
    application: $application
    status: $status
  ) {
    edges {
      node {
        id
        applicationName
        fromVersion
        toVersion
        status
        canaryWeight
        currentStepIndex
        createdAt
        startedAt
        finishedAt
        steps {
          index
        }
        lastDecision {
          at
          action
          actor
          reason
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    `, {"hash":"sha256:a75cc1083934e6ea0380d2afcca2dc4e3b582cf27dc986eb6ec89f1bf47b7e0b"}) as unknown as TypedDocumentString<CliRolloutsQuery, CliRolloutsQueryVariables>;
export const CliRolloutDocument = new TypedDocumentString(`
    query CliRollout($id: ID!) {
  rollout(id: $id) {
    ...CliRolloutDetail
  }
}
    fragment CliRolloutDetail on Rollout {
  id
  applicationName
  fromVersion
  toVersion
  status
  canaryWeight
  desiredWeight
  currentStepIndex
  seq
  createdAt
  startedAt
  stepStartedAt
  finishedAt
  steps {
    index
    kind
    status
    setWeight
    analyzeMin
    analyzeMax
    pauseDuration
    startedAt
    finishedAt
  }
  gates {
    name
    signal
    provider
    query
    dryRun
    judge
    lastResult {
      at
      verdict
      value
      reason
    }
  }
  decisions(last: 50) {
    seq
    at
    action
    actor
    reason
    stepIndex
    fromWeight
    toWeight
  }
}`, {"hash":"sha256:f782cf4584a33ac61af667492abe56c389823d7cf0873e05f45d198f744cc81e"}) as unknown as TypedDocumentString<CliRolloutQuery, CliRolloutQueryVariables>;
export const CliRolloutChangedDocument = new TypedDocumentString(`
    subscription CliRolloutChanged($id: ID!) {
  rolloutChanged(id: $id) {
    ...CliRolloutDetail
  }
}
    fragment CliRolloutDetail on Rollout {
  id
  applicationName
  fromVersion
  toVersion
  status
  canaryWeight
  desiredWeight
  currentStepIndex
  seq
  createdAt
  startedAt
  stepStartedAt
  finishedAt
  steps {
    index
    kind
    status
    setWeight
    analyzeMin
    analyzeMax
    pauseDuration
    startedAt
    finishedAt
  }
  gates {
    name
    signal
    provider
    query
    dryRun
    judge
    lastResult {
      at
      verdict
      value
      reason
    }
  }
  decisions(last: 50) {
    seq
    at
    action
    actor
    reason
    stepIndex
    fromWeight
    toWeight
  }
}`, {"hash":"sha256:954756e3c7911bf85d1da167d3b1034170d3dfe6007426247da39fe426e36d47"}) as unknown as TypedDocumentString<CliRolloutChangedSubscription, CliRolloutChangedSubscriptionVariables>;
export const CliViewerDocument = new TypedDocumentString(`
    query CliViewer {
  viewer {
    name
    scope
  }
}
    `, {"hash":"sha256:44029ea40c9a15d633e232bfc35a016a5e1a659eb59c8eeedd78714f2496aa70"}) as unknown as TypedDocumentString<CliViewerQuery, CliViewerQueryVariables>;