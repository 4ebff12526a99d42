package dev.vllmraycluster.review;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.vllmraycluster.review.Plan.Action;
import dev.vllmraycluster.review.Plan.Part;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The parser and renderer on small hand-written plan JSON, for what our stacks never produce
 * (sensitive values, variables with values); real plans are in {@link PlanReviewTofuTest}.
 */
class PlanParserTest {
  private static final String SECRET = "hunter2-do-not-print";

  /** One vLLM step replaced, with a sensitive config value and a sensitive variable set. */
  private static final String PLAN = """
      {"format_version": "1.2", "terraform_version": "1.12.6",
       "variables": {"vllm_api_key": {"value": "%1$s"}, "region": {"value": "eu-west-1"}},
       "configuration": {"root_module": {"variables": {"vllm_api_key": {"sensitive": true}, "region": {}}}},
       "resource_changes": [{
         "address": "terraform_data.head_vllm", "mode": "managed", "type": "terraform_data", "name": "head_vllm",
         "action_reason": "replace_by_triggers",
         "change": {"actions": ["delete", "create"],
           "before": {"input": {"node": "head", "role": "head", "component": "vllm",
               "config": {"API_PORT": "9001", "TOKEN": "%1$s"}, "args": ["--port", "9001", "--tensor-parallel-size", "1"]},
             "triggers_replace": {"config": "aaaa", "module": "m"}},
           "after": {"input": {"node": "head", "role": "head", "component": "vllm",
               "config": {"API_PORT": "9002", "TOKEN": "%1$s-2"}, "args": ["--port", "9002", "--tensor-parallel-size", "1"]},
             "triggers_replace": {"config": "bbbb", "module": "m"}},
           "before_sensitive": {"input": {"config": {"TOKEN": true}}},
           "after_sensitive": {"input": {"config": {"TOKEN": true}}},
           "after_unknown": {}}}],
       "output_changes": {"token": {"actions": ["update"], "before": "%1$s", "after": "x", "before_sensitive": true, "after_sensitive": true}},
       "prior_state": {"values": {"root_module": {"resources": [{"address": "terraform_data.head_vllm", "mode": "managed", "type": "terraform_data", "name": "head_vllm", "values": {}}]}}}}
      """.formatted(SECRET);

  @Test
  void sensitiveValuesAreMaskedAsTheyAreReadAndNeverRendered() {
    Plan plan = PlanParser.parse(PLAN);
    Plan.Step vllm = plan.steps().get(0);
    assertEquals(Action.REPLACE, vllm.action());
    assertEquals(Part.SENSITIVE, vllm.before().config().get("TOKEN"));
    assertEquals(Part.SENSITIVE, vllm.after().config().get("TOKEN"));
    assertEquals("9002", vllm.after().arg("--port").orElseThrow());
    assertEquals(List.of(SECRET), plan.sensitiveValues(), "only the sensitive variable's value, to scrub");
    String md = new PlanReview(plan).markdown();
    assertFalse(md.contains(SECRET), md);
    assertFalse(md.contains("eu-west-1"), "variable values are not part of a review");
    assertTrue(md.contains("`API_PORT` `9001` → `9002`"), md);
    assertTrue(md.contains("`--port` `9001` → `9002`"), md);
    assertTrue(md.contains("`TOKEN` (sensitive: not shown, may have changed)"), md);
  }

  @Test
  void aWholeInputMarkedSensitiveHidesEveryValueInIt() {
    Plan plan = PlanParser.parse(PLAN.replace("\"after_sensitive\": {\"input\": {\"config\": {\"TOKEN\": true}}}",
        "\"after_sensitive\": {\"input\": true}"));
    Part after = plan.steps().get(0).after();
    assertEquals(Map.of("API_PORT", Part.SENSITIVE, "TOKEN", Part.SENSITIVE), after.config());
    assertTrue(after.args().stream().allMatch(Part.SENSITIVE::equals), after.args().toString());
  }

  @Test
  void failsOnWhatIsNotAPlan() {
    assertThrows(PlanParser.NotAPlanException.class, () -> PlanParser.parse("not json"));
    assertThrows(PlanParser.NotAPlanException.class, () -> PlanParser.parse("{\"resource_changes\": []}"));
    assertThrows(PlanParser.NotAPlanException.class, () -> PlanParser.parse("{\"format_version\": \"1.0\", \"values\": {}}"));
    assertThrows(PlanParser.NotAPlanException.class, () -> PlanParser.parse("{\"format_version\": \"2.0\", \"resource_changes\": []}"));
  }

  @Test
  void readsFlagsAsTheConstructsRenderThem() {
    assertEquals(Map.of("--head", "", "--port", "6379", "--num-gpus", "2"), Args.flags(List.of("--head", "--port=6379", "--num-gpus=2")));
    assertEquals(Map.of("--model", "/m", "--seed", "-1", "--enforce-eager", ""),
        Args.flags(List.of("--model", "/m", "--seed", "-1", "--enforce-eager")));
  }

  @Test
  void listsShowWhatWasAddedAndRemoved() {
    assertEquals("`K` + `d`", PlanReview.change("`K`", "a b c", "a b c d"));
    assertEquals("`K` − `b`", PlanReview.change("`K`", "a b c", "a c"));
    assertEquals("`K` `a b` → `c d`", PlanReview.change("`K`", "a b", "c d"));
    assertEquals("`K` (empty) → `10.0.0.0/8`", PlanReview.change("`K`", "", "10.0.0.0/8"));
  }
}
