/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

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
    "\n  query ApplicationPage($name: String!) {\n    application(name: $name) {\n      id\n      name\n      stableVersion\n      spec\n      createdAt\n      updatedAt\n      rollouts(first: 30) {\n        edges {\n          node {\n            ...RolloutSummary\n          }\n        }\n      }\n    }\n  }\n": typeof types.ApplicationPageDocument,
    "\n  subscription ApplicationLive($name: String!) {\n    rolloutEvents(application: $name) {\n      kind\n      seq\n      rollout {\n        ...RolloutSummary\n      }\n    }\n  }\n": typeof types.ApplicationLiveDocument,
    "\n  mutation StartRollout($application: String!, $version: String!) {\n    startRollout(application: $application, version: $version) {\n      id\n    }\n  }\n": typeof types.StartRolloutDocument,
    "\n  query ApplicationsPage {\n    applications(first: 100) {\n      edges {\n        node {\n          id\n          name\n          stableVersion\n          updatedAt\n          rollouts(first: 6) {\n            edges {\n              node {\n                ...RolloutSummary\n              }\n            }\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n      }\n    }\n  }\n": typeof types.ApplicationsPageDocument,
    "\n  subscription ApplicationsLive {\n    rolloutEvents {\n      kind\n      seq\n      rollout {\n        ...RolloutSummary\n      }\n    }\n  }\n": typeof types.ApplicationsLiveDocument,
    "\n  query RolloutsPage($application: String, $status: [RolloutStatus!]) {\n    rollouts(first: 50, application: $application, status: $status) {\n      edges {\n        node {\n          ...RolloutSummary\n        }\n      }\n      pageInfo {\n        hasNextPage\n      }\n    }\n    applications(first: 100) {\n      edges {\n        node {\n          id\n          name\n        }\n      }\n    }\n  }\n": typeof types.RolloutsPageDocument,
    "\n  subscription RolloutsLive($application: String) {\n    rolloutEvents(application: $application) {\n      kind\n      seq\n      rollout {\n        ...RolloutSummary\n      }\n    }\n  }\n": typeof types.RolloutsLiveDocument,
    "\n  fragment RolloutDetail on Rollout {\n    id\n    seq\n    applicationName\n    fromVersion\n    toVersion\n    status\n    createdAt\n    startedAt\n    finishedAt\n    stepStartedAt\n    currentStepIndex\n    currentStep {\n      index\n      kind\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n    }\n    lastDecision {\n      at\n      action\n      actor\n      reason\n    }\n    ...WeightBar\n    ...StepsLadder\n    ...GatesPanel\n    ...WindowCharts\n    ...DecisionTimeline\n    ...RolloutControls\n  }\n": typeof types.RolloutDetailFragmentDoc,
    "\n  query RolloutPage($id: ID!) {\n    rollout(id: $id) {\n      ...RolloutDetail\n    }\n  }\n": typeof types.RolloutPageDocument,
    "\n  subscription RolloutLive($id: ID!) {\n    rolloutChanged(id: $id) {\n      ...RolloutDetail\n    }\n  }\n": typeof types.RolloutLiveDocument,
    "\n  fragment DecisionTimeline on Rollout {\n    decisions(last: 50) {\n      id\n      seq\n      at\n      action\n      actor\n      reason\n      stepIndex\n      fromWeight\n      toWeight\n      evidence\n    }\n  }\n": typeof types.DecisionTimelineFragmentDoc,
    "\n  fragment GatesPanel on Rollout {\n    gates {\n      name\n      signal\n      provider\n      query\n      judge\n      dryRun\n      lastResult {\n        at\n        verdict\n        value\n        reason\n        evidence\n      }\n    }\n  }\n": typeof types.GatesPanelFragmentDoc,
    "\n  fragment LinkedTraceRow on LinkedTrace {\n    id\n    traceId\n    rootName\n    service\n    version\n    stepIndex\n    start\n    durationMs\n    error\n    source\n    ...TraceWaterfall\n  }\n": typeof types.LinkedTraceRowFragmentDoc,
    "\n  query RolloutTraces($id: ID!, $errorOnly: Boolean, $first: Int!, $after: String) {\n    rollout(id: $id) {\n      id\n      traces(errorOnly: $errorOnly, first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            ...LinkedTraceRow\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": typeof types.RolloutTracesDocument,
    "\n  fragment RolloutControls on Rollout {\n    id\n    status\n    commands {\n      id\n      kind\n      full\n      actor\n      reason\n      createdAt\n      appliedAt\n      outcome\n    }\n  }\n": typeof types.RolloutControlsFragmentDoc,
    "\n  mutation PromoteRollout($id: ID!, $full: Boolean) {\n    promoteRollout(id: $id, full: $full) {\n      id\n      status\n    }\n  }\n": typeof types.PromoteRolloutDocument,
    "\n  mutation PauseRollout($id: ID!, $reason: String) {\n    pauseRollout(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n": typeof types.PauseRolloutDocument,
    "\n  mutation ResumeRollout($id: ID!) {\n    resumeRollout(id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.ResumeRolloutDocument,
    "\n  mutation RollbackRollout($id: ID!, $reason: String) {\n    rollbackRollout(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n": typeof types.RollbackRolloutDocument,
    "\n  mutation AbortRollout($id: ID!, $reason: String) {\n    abortRollout(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n": typeof types.AbortRolloutDocument,
    "\n  fragment RolloutSummary on Rollout {\n    id\n    seq\n    applicationName\n    fromVersion\n    toVersion\n    status\n    currentStepIndex\n    stepStartedAt\n    startedAt\n    finishedAt\n    createdAt\n    currentStep {\n      index\n      kind\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n    }\n    lastDecision {\n      at\n      action\n      actor\n      reason\n    }\n    ...WeightBar\n  }\n": typeof types.RolloutSummaryFragmentDoc,
    "\n  fragment StepsLadder on Rollout {\n    status\n    currentStepIndex\n    stepStartedAt\n    canaryWeight\n    steps {\n      index\n      kind\n      status\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n      startedAt\n      finishedAt\n    }\n  }\n": typeof types.StepsLadderFragmentDoc,
    "\n  fragment TraceWaterfall on LinkedTrace {\n    traceId\n    durationMs\n    spanCount\n    url\n    spans {\n      spanId\n      parentSpanId\n      name\n      service\n      kind\n      startOffsetMs\n      durationMs\n      status\n      attributes\n    }\n  }\n": typeof types.TraceWaterfallFragmentDoc,
    "\n  query Viewer {\n    viewer {\n      name\n      scope\n    }\n  }\n": typeof types.ViewerDocument,
    "\n  fragment WeightBar on Rollout {\n    status\n    canaryWeight\n    desiredWeight\n    steps {\n      index\n      kind\n      setWeight\n    }\n  }\n": typeof types.WeightBarFragmentDoc,
    "\n  fragment WindowCharts on Rollout {\n    evidencePrunedAt\n    windows(last: 60) {\n      id\n      startAt\n      endAt\n      stepIndex\n      canary {\n        signal\n        value\n      }\n      baseline {\n        signal\n        value\n      }\n    }\n    decisions(last: 50) {\n      id\n      at\n      action\n    }\n  }\n": typeof types.WindowChartsFragmentDoc,
};
const documents: Documents = {
    "\n  query ApplicationPage($name: String!) {\n    application(name: $name) {\n      id\n      name\n      stableVersion\n      spec\n      createdAt\n      updatedAt\n      rollouts(first: 30) {\n        edges {\n          node {\n            ...RolloutSummary\n          }\n        }\n      }\n    }\n  }\n": types.ApplicationPageDocument,
    "\n  subscription ApplicationLive($name: String!) {\n    rolloutEvents(application: $name) {\n      kind\n      seq\n      rollout {\n        ...RolloutSummary\n      }\n    }\n  }\n": types.ApplicationLiveDocument,
    "\n  mutation StartRollout($application: String!, $version: String!) {\n    startRollout(application: $application, version: $version) {\n      id\n    }\n  }\n": types.StartRolloutDocument,
    "\n  query ApplicationsPage {\n    applications(first: 100) {\n      edges {\n        node {\n          id\n          name\n          stableVersion\n          updatedAt\n          rollouts(first: 6) {\n            edges {\n              node {\n                ...RolloutSummary\n              }\n            }\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n      }\n    }\n  }\n": types.ApplicationsPageDocument,
    "\n  subscription ApplicationsLive {\n    rolloutEvents {\n      kind\n      seq\n      rollout {\n        ...RolloutSummary\n      }\n    }\n  }\n": types.ApplicationsLiveDocument,
    "\n  query RolloutsPage($application: String, $status: [RolloutStatus!]) {\n    rollouts(first: 50, application: $application, status: $status) {\n      edges {\n        node {\n          ...RolloutSummary\n        }\n      }\n      pageInfo {\n        hasNextPage\n      }\n    }\n    applications(first: 100) {\n      edges {\n        node {\n          id\n          name\n        }\n      }\n    }\n  }\n": types.RolloutsPageDocument,
    "\n  subscription RolloutsLive($application: String) {\n    rolloutEvents(application: $application) {\n      kind\n      seq\n      rollout {\n        ...RolloutSummary\n      }\n    }\n  }\n": types.RolloutsLiveDocument,
    "\n  fragment RolloutDetail on Rollout {\n    id\n    seq\n    applicationName\n    fromVersion\n    toVersion\n    status\n    createdAt\n    startedAt\n    finishedAt\n    stepStartedAt\n    currentStepIndex\n    currentStep {\n      index\n      kind\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n    }\n    lastDecision {\n      at\n      action\n      actor\n      reason\n    }\n    ...WeightBar\n    ...StepsLadder\n    ...GatesPanel\n    ...WindowCharts\n    ...DecisionTimeline\n    ...RolloutControls\n  }\n": types.RolloutDetailFragmentDoc,
    "\n  query RolloutPage($id: ID!) {\n    rollout(id: $id) {\n      ...RolloutDetail\n    }\n  }\n": types.RolloutPageDocument,
    "\n  subscription RolloutLive($id: ID!) {\n    rolloutChanged(id: $id) {\n      ...RolloutDetail\n    }\n  }\n": types.RolloutLiveDocument,
    "\n  fragment DecisionTimeline on Rollout {\n    decisions(last: 50) {\n      id\n      seq\n      at\n      action\n      actor\n      reason\n      stepIndex\n      fromWeight\n      toWeight\n      evidence\n    }\n  }\n": types.DecisionTimelineFragmentDoc,
    "\n  fragment GatesPanel on Rollout {\n    gates {\n      name\n      signal\n      provider\n      query\n      judge\n      dryRun\n      lastResult {\n        at\n        verdict\n        value\n        reason\n        evidence\n      }\n    }\n  }\n": types.GatesPanelFragmentDoc,
    "\n  fragment LinkedTraceRow on LinkedTrace {\n    id\n    traceId\n    rootName\n    service\n    version\n    stepIndex\n    start\n    durationMs\n    error\n    source\n    ...TraceWaterfall\n  }\n": types.LinkedTraceRowFragmentDoc,
    "\n  query RolloutTraces($id: ID!, $errorOnly: Boolean, $first: Int!, $after: String) {\n    rollout(id: $id) {\n      id\n      traces(errorOnly: $errorOnly, first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            ...LinkedTraceRow\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n": types.RolloutTracesDocument,
    "\n  fragment RolloutControls on Rollout {\n    id\n    status\n    commands {\n      id\n      kind\n      full\n      actor\n      reason\n      createdAt\n      appliedAt\n      outcome\n    }\n  }\n": types.RolloutControlsFragmentDoc,
    "\n  mutation PromoteRollout($id: ID!, $full: Boolean) {\n    promoteRollout(id: $id, full: $full) {\n      id\n      status\n    }\n  }\n": types.PromoteRolloutDocument,
    "\n  mutation PauseRollout($id: ID!, $reason: String) {\n    pauseRollout(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n": types.PauseRolloutDocument,
    "\n  mutation ResumeRollout($id: ID!) {\n    resumeRollout(id: $id) {\n      id\n      status\n    }\n  }\n": types.ResumeRolloutDocument,
    "\n  mutation RollbackRollout($id: ID!, $reason: String) {\n    rollbackRollout(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n": types.RollbackRolloutDocument,
    "\n  mutation AbortRollout($id: ID!, $reason: String) {\n    abortRollout(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n": types.AbortRolloutDocument,
    "\n  fragment RolloutSummary on Rollout {\n    id\n    seq\n    applicationName\n    fromVersion\n    toVersion\n    status\n    currentStepIndex\n    stepStartedAt\n    startedAt\n    finishedAt\n    createdAt\n    currentStep {\n      index\n      kind\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n    }\n    lastDecision {\n      at\n      action\n      actor\n      reason\n    }\n    ...WeightBar\n  }\n": types.RolloutSummaryFragmentDoc,
    "\n  fragment StepsLadder on Rollout {\n    status\n    currentStepIndex\n    stepStartedAt\n    canaryWeight\n    steps {\n      index\n      kind\n      status\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n      startedAt\n      finishedAt\n    }\n  }\n": types.StepsLadderFragmentDoc,
    "\n  fragment TraceWaterfall on LinkedTrace {\n    traceId\n    durationMs\n    spanCount\n    url\n    spans {\n      spanId\n      parentSpanId\n      name\n      service\n      kind\n      startOffsetMs\n      durationMs\n      status\n      attributes\n    }\n  }\n": types.TraceWaterfallFragmentDoc,
    "\n  query Viewer {\n    viewer {\n      name\n      scope\n    }\n  }\n": types.ViewerDocument,
    "\n  fragment WeightBar on Rollout {\n    status\n    canaryWeight\n    desiredWeight\n    steps {\n      index\n      kind\n      setWeight\n    }\n  }\n": types.WeightBarFragmentDoc,
    "\n  fragment WindowCharts on Rollout {\n    evidencePrunedAt\n    windows(last: 60) {\n      id\n      startAt\n      endAt\n      stepIndex\n      canary {\n        signal\n        value\n      }\n      baseline {\n        signal\n        value\n      }\n    }\n    decisions(last: 50) {\n      id\n      at\n      action\n    }\n  }\n": types.WindowChartsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ApplicationPage($name: String!) {\n    application(name: $name) {\n      id\n      name\n      stableVersion\n      spec\n      createdAt\n      updatedAt\n      rollouts(first: 30) {\n        edges {\n          node {\n            ...RolloutSummary\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query ApplicationPage($name: String!) {\n    application(name: $name) {\n      id\n      name\n      stableVersion\n      spec\n      createdAt\n      updatedAt\n      rollouts(first: 30) {\n        edges {\n          node {\n            ...RolloutSummary\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ApplicationLive($name: String!) {\n    rolloutEvents(application: $name) {\n      kind\n      seq\n      rollout {\n        ...RolloutSummary\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription ApplicationLive($name: String!) {\n    rolloutEvents(application: $name) {\n      kind\n      seq\n      rollout {\n        ...RolloutSummary\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartRollout($application: String!, $version: String!) {\n    startRollout(application: $application, version: $version) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation StartRollout($application: String!, $version: String!) {\n    startRollout(application: $application, version: $version) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ApplicationsPage {\n    applications(first: 100) {\n      edges {\n        node {\n          id\n          name\n          stableVersion\n          updatedAt\n          rollouts(first: 6) {\n            edges {\n              node {\n                ...RolloutSummary\n              }\n            }\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n      }\n    }\n  }\n"): (typeof documents)["\n  query ApplicationsPage {\n    applications(first: 100) {\n      edges {\n        node {\n          id\n          name\n          stableVersion\n          updatedAt\n          rollouts(first: 6) {\n            edges {\n              node {\n                ...RolloutSummary\n              }\n            }\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ApplicationsLive {\n    rolloutEvents {\n      kind\n      seq\n      rollout {\n        ...RolloutSummary\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription ApplicationsLive {\n    rolloutEvents {\n      kind\n      seq\n      rollout {\n        ...RolloutSummary\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RolloutsPage($application: String, $status: [RolloutStatus!]) {\n    rollouts(first: 50, application: $application, status: $status) {\n      edges {\n        node {\n          ...RolloutSummary\n        }\n      }\n      pageInfo {\n        hasNextPage\n      }\n    }\n    applications(first: 100) {\n      edges {\n        node {\n          id\n          name\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query RolloutsPage($application: String, $status: [RolloutStatus!]) {\n    rollouts(first: 50, application: $application, status: $status) {\n      edges {\n        node {\n          ...RolloutSummary\n        }\n      }\n      pageInfo {\n        hasNextPage\n      }\n    }\n    applications(first: 100) {\n      edges {\n        node {\n          id\n          name\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RolloutsLive($application: String) {\n    rolloutEvents(application: $application) {\n      kind\n      seq\n      rollout {\n        ...RolloutSummary\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription RolloutsLive($application: String) {\n    rolloutEvents(application: $application) {\n      kind\n      seq\n      rollout {\n        ...RolloutSummary\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RolloutDetail on Rollout {\n    id\n    seq\n    applicationName\n    fromVersion\n    toVersion\n    status\n    createdAt\n    startedAt\n    finishedAt\n    stepStartedAt\n    currentStepIndex\n    currentStep {\n      index\n      kind\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n    }\n    lastDecision {\n      at\n      action\n      actor\n      reason\n    }\n    ...WeightBar\n    ...StepsLadder\n    ...GatesPanel\n    ...WindowCharts\n    ...DecisionTimeline\n    ...RolloutControls\n  }\n"): (typeof documents)["\n  fragment RolloutDetail on Rollout {\n    id\n    seq\n    applicationName\n    fromVersion\n    toVersion\n    status\n    createdAt\n    startedAt\n    finishedAt\n    stepStartedAt\n    currentStepIndex\n    currentStep {\n      index\n      kind\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n    }\n    lastDecision {\n      at\n      action\n      actor\n      reason\n    }\n    ...WeightBar\n    ...StepsLadder\n    ...GatesPanel\n    ...WindowCharts\n    ...DecisionTimeline\n    ...RolloutControls\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RolloutPage($id: ID!) {\n    rollout(id: $id) {\n      ...RolloutDetail\n    }\n  }\n"): (typeof documents)["\n  query RolloutPage($id: ID!) {\n    rollout(id: $id) {\n      ...RolloutDetail\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RolloutLive($id: ID!) {\n    rolloutChanged(id: $id) {\n      ...RolloutDetail\n    }\n  }\n"): (typeof documents)["\n  subscription RolloutLive($id: ID!) {\n    rolloutChanged(id: $id) {\n      ...RolloutDetail\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment DecisionTimeline on Rollout {\n    decisions(last: 50) {\n      id\n      seq\n      at\n      action\n      actor\n      reason\n      stepIndex\n      fromWeight\n      toWeight\n      evidence\n    }\n  }\n"): (typeof documents)["\n  fragment DecisionTimeline on Rollout {\n    decisions(last: 50) {\n      id\n      seq\n      at\n      action\n      actor\n      reason\n      stepIndex\n      fromWeight\n      toWeight\n      evidence\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment GatesPanel on Rollout {\n    gates {\n      name\n      signal\n      provider\n      query\n      judge\n      dryRun\n      lastResult {\n        at\n        verdict\n        value\n        reason\n        evidence\n      }\n    }\n  }\n"): (typeof documents)["\n  fragment GatesPanel on Rollout {\n    gates {\n      name\n      signal\n      provider\n      query\n      judge\n      dryRun\n      lastResult {\n        at\n        verdict\n        value\n        reason\n        evidence\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment LinkedTraceRow on LinkedTrace {\n    id\n    traceId\n    rootName\n    service\n    version\n    stepIndex\n    start\n    durationMs\n    error\n    source\n    ...TraceWaterfall\n  }\n"): (typeof documents)["\n  fragment LinkedTraceRow on LinkedTrace {\n    id\n    traceId\n    rootName\n    service\n    version\n    stepIndex\n    start\n    durationMs\n    error\n    source\n    ...TraceWaterfall\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RolloutTraces($id: ID!, $errorOnly: Boolean, $first: Int!, $after: String) {\n    rollout(id: $id) {\n      id\n      traces(errorOnly: $errorOnly, first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            ...LinkedTraceRow\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query RolloutTraces($id: ID!, $errorOnly: Boolean, $first: Int!, $after: String) {\n    rollout(id: $id) {\n      id\n      traces(errorOnly: $errorOnly, first: $first, after: $after) {\n        edges {\n          cursor\n          node {\n            ...LinkedTraceRow\n          }\n        }\n        pageInfo {\n          hasNextPage\n          endCursor\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RolloutControls on Rollout {\n    id\n    status\n    commands {\n      id\n      kind\n      full\n      actor\n      reason\n      createdAt\n      appliedAt\n      outcome\n    }\n  }\n"): (typeof documents)["\n  fragment RolloutControls on Rollout {\n    id\n    status\n    commands {\n      id\n      kind\n      full\n      actor\n      reason\n      createdAt\n      appliedAt\n      outcome\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PromoteRollout($id: ID!, $full: Boolean) {\n    promoteRollout(id: $id, full: $full) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation PromoteRollout($id: ID!, $full: Boolean) {\n    promoteRollout(id: $id, full: $full) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation PauseRollout($id: ID!, $reason: String) {\n    pauseRollout(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation PauseRollout($id: ID!, $reason: String) {\n    pauseRollout(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResumeRollout($id: ID!) {\n    resumeRollout(id: $id) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation ResumeRollout($id: ID!) {\n    resumeRollout(id: $id) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RollbackRollout($id: ID!, $reason: String) {\n    rollbackRollout(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation RollbackRollout($id: ID!, $reason: String) {\n    rollbackRollout(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AbortRollout($id: ID!, $reason: String) {\n    abortRollout(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation AbortRollout($id: ID!, $reason: String) {\n    abortRollout(id: $id, reason: $reason) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RolloutSummary on Rollout {\n    id\n    seq\n    applicationName\n    fromVersion\n    toVersion\n    status\n    currentStepIndex\n    stepStartedAt\n    startedAt\n    finishedAt\n    createdAt\n    currentStep {\n      index\n      kind\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n    }\n    lastDecision {\n      at\n      action\n      actor\n      reason\n    }\n    ...WeightBar\n  }\n"): (typeof documents)["\n  fragment RolloutSummary on Rollout {\n    id\n    seq\n    applicationName\n    fromVersion\n    toVersion\n    status\n    currentStepIndex\n    stepStartedAt\n    startedAt\n    finishedAt\n    createdAt\n    currentStep {\n      index\n      kind\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n    }\n    lastDecision {\n      at\n      action\n      actor\n      reason\n    }\n    ...WeightBar\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment StepsLadder on Rollout {\n    status\n    currentStepIndex\n    stepStartedAt\n    canaryWeight\n    steps {\n      index\n      kind\n      status\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n      startedAt\n      finishedAt\n    }\n  }\n"): (typeof documents)["\n  fragment StepsLadder on Rollout {\n    status\n    currentStepIndex\n    stepStartedAt\n    canaryWeight\n    steps {\n      index\n      kind\n      status\n      setWeight\n      analyzeMin\n      analyzeMax\n      pauseDuration\n      startedAt\n      finishedAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment TraceWaterfall on LinkedTrace {\n    traceId\n    durationMs\n    spanCount\n    url\n    spans {\n      spanId\n      parentSpanId\n      name\n      service\n      kind\n      startOffsetMs\n      durationMs\n      status\n      attributes\n    }\n  }\n"): (typeof documents)["\n  fragment TraceWaterfall on LinkedTrace {\n    traceId\n    durationMs\n    spanCount\n    url\n    spans {\n      spanId\n      parentSpanId\n      name\n      service\n      kind\n      startOffsetMs\n      durationMs\n      status\n      attributes\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Viewer {\n    viewer {\n      name\n      scope\n    }\n  }\n"): (typeof documents)["\n  query Viewer {\n    viewer {\n      name\n      scope\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WeightBar on Rollout {\n    status\n    canaryWeight\n    desiredWeight\n    steps {\n      index\n      kind\n      setWeight\n    }\n  }\n"): (typeof documents)["\n  fragment WeightBar on Rollout {\n    status\n    canaryWeight\n    desiredWeight\n    steps {\n      index\n      kind\n      setWeight\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment WindowCharts on Rollout {\n    evidencePrunedAt\n    windows(last: 60) {\n      id\n      startAt\n      endAt\n      stepIndex\n      canary {\n        signal\n        value\n      }\n      baseline {\n        signal\n        value\n      }\n    }\n    decisions(last: 50) {\n      id\n      at\n      action\n    }\n  }\n"): (typeof documents)["\n  fragment WindowCharts on Rollout {\n    evidencePrunedAt\n    windows(last: 60) {\n      id\n      startAt\n      endAt\n      stepIndex\n      canary {\n        signal\n        value\n      }\n      baseline {\n        signal\n        value\n      }\n    }\n    decisions(last: 50) {\n      id\n      at\n      action\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;