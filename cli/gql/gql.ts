/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query CliApplications($first: Int, $after: String) {\n    applications(first: $first, after: $after) {\n      edges {\n        node {\n          id\n          name\n          stableVersion\n          spec\n          createdAt\n          updatedAt\n          rollouts(first: 1) {\n            edges {\n              node {\n                id\n                toVersion\n                status\n                canaryWeight\n              }\n            }\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.CliApplicationsDocument,
    "\n  mutation CliApplyApplication($spec: JSON!) {\n    applyApplication(spec: $spec) {\n      id\n      name\n      stableVersion\n      createdAt\n      updatedAt\n    }\n  }\n": typeof types.CliApplyApplicationDocument,
    "\n  query CliAuditVerify($rollout: ID, $after: String, $limit: Int) {\n    auditVerify(rollout: $rollout, after: $after, limit: $limit) {\n      ok\n      rolloutsChecked\n      decisionsChecked\n      brokenRollouts\n      firstBroken {\n        rolloutId\n        chainSeq\n        decisionId\n        problem\n        expected\n        actual\n        message\n      }\n      head {\n        rolloutId\n        chainSeq\n        decisionId\n        hash\n      }\n      next\n    }\n  }\n": typeof types.CliAuditVerifyDocument,
    "\n  fragment CliRolloutSummary on Rollout {\n    id\n    applicationName\n    fromVersion\n    toVersion\n    status\n    canaryWeight\n    currentStepIndex\n  }\n": typeof types.CliRolloutSummaryFragmentDoc,
    "\n  mutation CliStartRollout($application: String!, $version: String!) {\n    startRollout(application: $application, version: $version) {\n      ...CliRolloutSummary\n    }\n  }\n": typeof types.CliStartRolloutDocument,
    "\n  mutation CliPromoteRollout($id: ID!, $full: Boolean) {\n    promoteRollout(id: $id, full: $full) {\n      ...CliRolloutSummary\n    }\n  }\n": typeof types.CliPromoteRolloutDocument,
    "\n  mutation CliPauseRollout($id: ID!, $reason: String) {\n    pauseRollout(id: $id, reason: $reason) {\n      ...CliRolloutSummary\n    }\n  }\n": typeof types.CliPauseRolloutDocument,
    "\n  mutation CliResumeRollout($id: ID!) {\n    resumeRollout(id: $id) {\n      ...CliRolloutSummary\n    }\n  }\n": typeof types.CliResumeRolloutDocument,
    "\n  mutation CliRollbackRollout($id: ID!, $reason: String) {\n    rollbackRollout(id: $id, reason: $reason) {\n      ...CliRolloutSummary\n    }\n  }\n": typeof types.CliRollbackRolloutDocument,
    "\n  mutation CliAbortRollout($id: ID!, $reason: String) {\n    abortRollout(id: $id, reason: $reason) {\n      ...CliRolloutSummary\n    }\n  }\n": typeof types.CliAbortRolloutDocument,
    "\n  query CliRollouts($first: Int, $after: String, $application: String, $status: [RolloutStatus!]) {\n    rollouts(first: $first, after: $after, application: $application, status: $status) {\n      edges {\n        node {\n          id\n          applicationName\n          fromVersion\n          toVersion\n          status\n          canaryWeight\n          currentStepIndex\n          createdAt\n          startedAt\n          finishedAt\n          steps {\n            index\n          }\n          lastDecision {\n            at\n            action\n            actor\n            reason\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.CliRolloutsDocument,
    "\n  fragment CliRolloutDetail on Rollout {\n    id\n    applicationName\n    fromVersion\n    toVersion\n    status\n    canaryWeight\n    desiredWeight\n    currentStepIndex\n    seq\n    createdAt\n    startedAt\n    stepStartedAt\n    finishedAt\n    steps {\n      index\n      kind\n      status\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n      startedAt\n      finishedAt\n    }\n    gates {\n      name\n      signal\n      provider\n      query\n      dryRun\n      judge\n      lastResult {\n        at\n        verdict\n        value\n        reason\n      }\n    }\n    decisions(last: 50) {\n      seq\n      at\n      action\n      actor\n      reason\n      stepIndex\n      fromWeight\n      toWeight\n    }\n  }\n": typeof types.CliRolloutDetailFragmentDoc,
    "\n  query CliRollout($id: ID!) {\n    rollout(id: $id) {\n      ...CliRolloutDetail\n    }\n  }\n": typeof types.CliRolloutDocument,
    "\n  subscription CliRolloutChanged($id: ID!) {\n    rolloutChanged(id: $id) {\n      ...CliRolloutDetail\n    }\n  }\n": typeof types.CliRolloutChangedDocument,
    "\n  query CliViewer {\n    viewer {\n      name\n      scope\n    }\n  }\n": typeof types.CliViewerDocument,
};
const documents: Documents = {
    "\n  query CliApplications($first: Int, $after: String) {\n    applications(first: $first, after: $after) {\n      edges {\n        node {\n          id\n          name\n          stableVersion\n          spec\n          createdAt\n          updatedAt\n          rollouts(first: 1) {\n            edges {\n              node {\n                id\n                toVersion\n                status\n                canaryWeight\n              }\n            }\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.CliApplicationsDocument,
    "\n  mutation CliApplyApplication($spec: JSON!) {\n    applyApplication(spec: $spec) {\n      id\n      name\n      stableVersion\n      createdAt\n      updatedAt\n    }\n  }\n": types.CliApplyApplicationDocument,
    "\n  query CliAuditVerify($rollout: ID, $after: String, $limit: Int) {\n    auditVerify(rollout: $rollout, after: $after, limit: $limit) {\n      ok\n      rolloutsChecked\n      decisionsChecked\n      brokenRollouts\n      firstBroken {\n        rolloutId\n        chainSeq\n        decisionId\n        problem\n        expected\n        actual\n        message\n      }\n      head {\n        rolloutId\n        chainSeq\n        decisionId\n        hash\n      }\n      next\n    }\n  }\n": types.CliAuditVerifyDocument,
    "\n  fragment CliRolloutSummary on Rollout {\n    id\n    applicationName\n    fromVersion\n    toVersion\n    status\n    canaryWeight\n    currentStepIndex\n  }\n": types.CliRolloutSummaryFragmentDoc,
    "\n  mutation CliStartRollout($application: String!, $version: String!) {\n    startRollout(application: $application, version: $version) {\n      ...CliRolloutSummary\n    }\n  }\n": types.CliStartRolloutDocument,
    "\n  mutation CliPromoteRollout($id: ID!, $full: Boolean) {\n    promoteRollout(id: $id, full: $full) {\n      ...CliRolloutSummary\n    }\n  }\n": types.CliPromoteRolloutDocument,
    "\n  mutation CliPauseRollout($id: ID!, $reason: String) {\n    pauseRollout(id: $id, reason: $reason) {\n      ...CliRolloutSummary\n    }\n  }\n": types.CliPauseRolloutDocument,
    "\n  mutation CliResumeRollout($id: ID!) {\n    resumeRollout(id: $id) {\n      ...CliRolloutSummary\n    }\n  }\n": types.CliResumeRolloutDocument,
    "\n  mutation CliRollbackRollout($id: ID!, $reason: String) {\n    rollbackRollout(id: $id, reason: $reason) {\n      ...CliRolloutSummary\n    }\n  }\n": types.CliRollbackRolloutDocument,
    "\n  mutation CliAbortRollout($id: ID!, $reason: String) {\n    abortRollout(id: $id, reason: $reason) {\n      ...CliRolloutSummary\n    }\n  }\n": types.CliAbortRolloutDocument,
    "\n  query CliRollouts($first: Int, $after: String, $application: String, $status: [RolloutStatus!]) {\n    rollouts(first: $first, after: $after, application: $application, status: $status) {\n      edges {\n        node {\n          id\n          applicationName\n          fromVersion\n          toVersion\n          status\n          canaryWeight\n          currentStepIndex\n          createdAt\n          startedAt\n          finishedAt\n          steps {\n            index\n          }\n          lastDecision {\n            at\n            action\n            actor\n            reason\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.CliRolloutsDocument,
    "\n  fragment CliRolloutDetail on Rollout {\n    id\n    applicationName\n    fromVersion\n    toVersion\n    status\n    canaryWeight\n    desiredWeight\n    currentStepIndex\n    seq\n    createdAt\n    startedAt\n    stepStartedAt\n    finishedAt\n    steps {\n      index\n      kind\n      status\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n      startedAt\n      finishedAt\n    }\n    gates {\n      name\n      signal\n      provider\n      query\n      dryRun\n      judge\n      lastResult {\n        at\n        verdict\n        value\n        reason\n      }\n    }\n    decisions(last: 50) {\n      seq\n      at\n      action\n      actor\n      reason\n      stepIndex\n      fromWeight\n      toWeight\n    }\n  }\n": types.CliRolloutDetailFragmentDoc,
    "\n  query CliRollout($id: ID!) {\n    rollout(id: $id) {\n      ...CliRolloutDetail\n    }\n  }\n": types.CliRolloutDocument,
    "\n  subscription CliRolloutChanged($id: ID!) {\n    rolloutChanged(id: $id) {\n      ...CliRolloutDetail\n    }\n  }\n": types.CliRolloutChangedDocument,
    "\n  query CliViewer {\n    viewer {\n      name\n      scope\n    }\n  }\n": types.CliViewerDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliApplications($first: Int, $after: String) {\n    applications(first: $first, after: $after) {\n      edges {\n        node {\n          id\n          name\n          stableVersion\n          spec\n          createdAt\n          updatedAt\n          rollouts(first: 1) {\n            edges {\n              node {\n                id\n                toVersion\n                status\n                canaryWeight\n              }\n            }\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): typeof import('./graphql.js').CliApplicationsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliApplyApplication($spec: JSON!) {\n    applyApplication(spec: $spec) {\n      id\n      name\n      stableVersion\n      createdAt\n      updatedAt\n    }\n  }\n"): typeof import('./graphql.js').CliApplyApplicationDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliAuditVerify($rollout: ID, $after: String, $limit: Int) {\n    auditVerify(rollout: $rollout, after: $after, limit: $limit) {\n      ok\n      rolloutsChecked\n      decisionsChecked\n      brokenRollouts\n      firstBroken {\n        rolloutId\n        chainSeq\n        decisionId\n        problem\n        expected\n        actual\n        message\n      }\n      head {\n        rolloutId\n        chainSeq\n        decisionId\n        hash\n      }\n      next\n    }\n  }\n"): typeof import('./graphql.js').CliAuditVerifyDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CliRolloutSummary on Rollout {\n    id\n    applicationName\n    fromVersion\n    toVersion\n    status\n    canaryWeight\n    currentStepIndex\n  }\n"): typeof import('./graphql.js').CliRolloutSummaryFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliStartRollout($application: String!, $version: String!) {\n    startRollout(application: $application, version: $version) {\n      ...CliRolloutSummary\n    }\n  }\n"): typeof import('./graphql.js').CliStartRolloutDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliPromoteRollout($id: ID!, $full: Boolean) {\n    promoteRollout(id: $id, full: $full) {\n      ...CliRolloutSummary\n    }\n  }\n"): typeof import('./graphql.js').CliPromoteRolloutDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliPauseRollout($id: ID!, $reason: String) {\n    pauseRollout(id: $id, reason: $reason) {\n      ...CliRolloutSummary\n    }\n  }\n"): typeof import('./graphql.js').CliPauseRolloutDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliResumeRollout($id: ID!) {\n    resumeRollout(id: $id) {\n      ...CliRolloutSummary\n    }\n  }\n"): typeof import('./graphql.js').CliResumeRolloutDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliRollbackRollout($id: ID!, $reason: String) {\n    rollbackRollout(id: $id, reason: $reason) {\n      ...CliRolloutSummary\n    }\n  }\n"): typeof import('./graphql.js').CliRollbackRolloutDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CliAbortRollout($id: ID!, $reason: String) {\n    abortRollout(id: $id, reason: $reason) {\n      ...CliRolloutSummary\n    }\n  }\n"): typeof import('./graphql.js').CliAbortRolloutDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliRollouts($first: Int, $after: String, $application: String, $status: [RolloutStatus!]) {\n    rollouts(first: $first, after: $after, application: $application, status: $status) {\n      edges {\n        node {\n          id\n          applicationName\n          fromVersion\n          toVersion\n          status\n          canaryWeight\n          currentStepIndex\n          createdAt\n          startedAt\n          finishedAt\n          steps {\n            index\n          }\n          lastDecision {\n            at\n            action\n            actor\n            reason\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): typeof import('./graphql.js').CliRolloutsDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CliRolloutDetail on Rollout {\n    id\n    applicationName\n    fromVersion\n    toVersion\n    status\n    canaryWeight\n    desiredWeight\n    currentStepIndex\n    seq\n    createdAt\n    startedAt\n    stepStartedAt\n    finishedAt\n    steps {\n      index\n      kind\n      status\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n      startedAt\n      finishedAt\n    }\n    gates {\n      name\n      signal\n      provider\n      query\n      dryRun\n      judge\n      lastResult {\n        at\n        verdict\n        value\n        reason\n      }\n    }\n    decisions(last: 50) {\n      seq\n      at\n      action\n      actor\n      reason\n      stepIndex\n      fromWeight\n      toWeight\n    }\n  }\n"): typeof import('./graphql.js').CliRolloutDetailFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliRollout($id: ID!) {\n    rollout(id: $id) {\n      ...CliRolloutDetail\n    }\n  }\n"): typeof import('./graphql.js').CliRolloutDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription CliRolloutChanged($id: ID!) {\n    rolloutChanged(id: $id) {\n      ...CliRolloutDetail\n    }\n  }\n"): typeof import('./graphql.js').CliRolloutChangedDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CliViewer {\n    viewer {\n      name\n      scope\n    }\n  }\n"): typeof import('./graphql.js').CliViewerDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
