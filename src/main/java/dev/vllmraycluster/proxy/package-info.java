/** The API proxy on the head ({@link dev.vllmraycluster.proxy.ApiProxy}): HAProxy with TLS, checking the key on every path. */
package dev.vllmraycluster.proxy;
