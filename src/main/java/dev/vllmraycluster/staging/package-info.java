/** What synth stages beside {@code cdk.tf.json} as CDKTF assets, so the output names no path of the machine it was made on: the host modules shipped in this jar ({@link dev.vllmraycluster.staging.HostModules}) and the command line {@code local_checks} runs preflight with ({@link dev.vllmraycluster.staging.CliRuntime}). */
package dev.vllmraycluster.staging;
