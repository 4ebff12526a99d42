/** The named preflight and verify checks, each a pure function of the gathered facts. */
package dev.vllmraycluster.preflight.check;
