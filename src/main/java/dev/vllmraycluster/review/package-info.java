/** Plan reviews for pull requests: a saved OpenTofu plan read ({@link dev.vllmraycluster.review.PlanParser}) into facts, risk rules and Markdown ({@link dev.vllmraycluster.review.PlanReview}). */
package dev.vllmraycluster.review;
