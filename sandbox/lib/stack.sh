# shellcheck shell=bash
# Writes stacks/sandbox.yaml for the running cluster hosts. Sourced, never run.

write_stack() {
  local gpus="$1" name total=0 tp content schema
  shift
  mkdir -p "$(dirname "$STACK_FILE")"
  # Editors find the stack file schema relative to the file (stacks/ or an instance's stacks/).
  schema="$(realpath -m --relative-to="$(dirname "$STACK_FILE")" "$PROJECT_ROOT/schema/stack.schema.json")"
  content="# yaml-language-server: \$schema=$schema
# Written by \`sandbox/sandbox up\`: local test hosts, not for production.
nodes:"
  for name in "$@"; do
    content+=$'\n'"  - name: $name"
    [[ $name == head ]] && content+=$'\n'"    role: head"
    content+=$'\n'"    address: $(host_ip "$name")"
    content+=$'\n'"    gpus: $gpus"
    content+=$'\n'"    ssh_host_key: \"$(host_pubkey "$name")\""
    total=$((total + gpus))
  done
  tp=2
  ((total < 2)) && tp=1
  content+="
ssh:
  user: root
  private_key_path: $CLIENT_KEY
network:
  cluster_cidr: $SUBNET
  api_allowed_networks: [$BRIDGE_IP/32]
  dashboard_allowed_networks: []
software:
  os_family: apt
  python: python$TARGET_PYTHON
  venv_path: /opt/vllm_env
  ray_version: $RAY_VERSION
  vllm_version: $VLLM_STANDIN_VERSION
  pip_find_links: $(http_url)
  pip_trusted_host: $BRIDGE_IP
model:
  local_directory: $MODEL_DIR
  served_model_name: tiny-llama
storage:
  mode: local_copy
  mount_path: /srv/vrc-models
vllm:
  port: 9001
  tensor_parallel_size: $tp
  pipeline_parallel_size: 1
  gpu_memory_utilization: 0.9
  extra_args: [\"--load-format\", \"dummy\"]
# The hosts have no GPU: the GPUs above are Ray's logical resources only; preflight and verify
# report the missing nvidia-smi as a warning, not a failure.
testing:
  logical_gpus: true"
  put_file "$STACK_FILE" 0644 "$content"
  log "stack: wrote $STACK_FILE ($# nodes, $gpus GPU(s) each, tensor_parallel_size $tp)"
}

ensure_model() {
  if [[ -f $MODEL_DIR/config.json && -f $MODEL_DIR/tokenizer.json ]]; then
    log "model: cached at $MODEL_DIR"
    return 0
  fi
  rm -rf --one-file-system "$MODEL_DIR"
  python3 "$SANDBOX_HOME/lib/make_model.py" "$MODEL_DIR" || die "model: could not write $MODEL_DIR"
  log "model: wrote $MODEL_DIR ($(du -sh "$MODEL_DIR" | cut -f1))"
}
