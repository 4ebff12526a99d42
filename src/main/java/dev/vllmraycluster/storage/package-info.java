/** The model store on each node ({@link dev.vllmraycluster.storage.ModelStore}): head NFS export, external NFS, or a copy per node. */
package dev.vllmraycluster.storage;
