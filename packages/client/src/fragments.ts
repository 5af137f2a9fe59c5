/**
 * The selections every client of the gateway reads whole: a job, a model. The client's own
 * operations spread them, and so do the dashboard's, which add only what they need beyond them.
 */
import { graphql } from './graphql.ts';

export const JobFields = graphql(`
  fragment JobFields on Job {
    id
    status
    model
    prompt
    imageSize
    numInferenceSteps
    guidanceScale
    numImages
    enableSafetyChecker
    outputFormat
    acceleration
    queuePosition
    requestId
    error
    costUsd
    expectedDurationMs
    endUserId
    createdAt
    updatedAt
    startedAt
    completedAt
    imagesExpiredAt
    images {
      url
      width
      height
      contentType
      byteLength
    }
  }
`);

export const ModelFields = graphql(`
  fragment ModelFields on ModelInfo {
    id
    name
    priceUsdPerImage
    defaultSteps
    minSteps
    maxSteps
    supportsGuidanceScale
    defaultGuidanceScale
    minGuidanceScale
    maxGuidanceScale
    maxImages
    maxPromptLength
    accelerations
    defaultAcceleration
    expectedDurationMs
  }
`);
