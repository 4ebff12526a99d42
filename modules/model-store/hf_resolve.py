"""Resolve a Hugging Face revision to its commit with the venv's huggingface_hub (the library vLLM
uses), before any file is downloaded. Prints one line and exits 0 on success:
    ok <commit sha>
else exits 1 after printing one line naming what failed:
    token <detail>      the endpoint refused the token (401 "Invalid credentials")
    revision <detail>   the repo exists, the revision does not
    repo <detail>       no such repo, or a private/gated one without a (valid) token
    unreachable <detail>
    error <detail>
Usage: python hf_resolve.py REPO REVISION   (HF_ENDPOINT and HF_TOKEN from the environment)
"""
import sys


def main():
    repo, revision = sys.argv[1], sys.argv[2]
    from huggingface_hub import HfApi
    from huggingface_hub.errors import (GatedRepoError, HfHubHTTPError, RepositoryNotFoundError,
                                        RevisionNotFoundError)
    try:
        info = HfApi().model_info(repo, revision=revision)
    except RevisionNotFoundError as e:
        return fail("revision", e)
    except GatedRepoError as e:
        return fail("repo", e)
    except RepositoryNotFoundError as e:
        return fail("repo", e)
    except HfHubHTTPError as e:
        status = e.response.status_code if e.response is not None else 0
        return fail("token" if status == 401 else "error", e)
    except Exception as e:  # connection refused, timeouts, DNS (httpx's errors are no OSError)
        name = type(e).__name__
        return fail("unreachable" if "Connect" in name or "Timeout" in name else "error", f"{name}: {e}")
    if not info.sha:
        return fail("error", "the endpoint returned no commit for this revision")
    print("ok", info.sha)
    return 0


def fail(kind, error):
    detail = " ".join(str(error).split())
    print(kind, detail[:400])
    return 1


if __name__ == "__main__":
    sys.exit(main())
