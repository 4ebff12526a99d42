/** The typed model of a cluster ({@link dev.vllmraycluster.spec.ClusterSpec}, with builders and defaults), the one validator ({@link dev.vllmraycluster.spec.SpecValidator}), the stack file loader ({@link dev.vllmraycluster.spec.StackLoader}) and the schema generated from the model ({@link dev.vllmraycluster.spec.StackSchema}). */
package dev.vllmraycluster.spec;
