import { openSandbox } from "../../sandbox/select.js";
import { loadConfiguredTasks } from "../../tasks/suite-file.js";
import { KoderzError } from "../errors.js";
import { measureExperiment } from "../evaluation/measure-experiment.js";
import { BenchmarkConfigSchema } from "../orchestrator/benchmark-config.js";
import { writeRunSummary, type Store } from "../store/index.js";
import { armQuality, renderQualityFigures } from "./quality-figures.js";

const TaskSource = BenchmarkConfigSchema.pick({ suite: true, suiteSource: true, datasetPath: true, reposDir: true });

/**
 * `koderz results measure RUN`: takes the sandbox measures (final code quality, deep drafts'
 * behaviour) of a benchmark run recorded before koderz took them after each experiment, or
 * again. Verdicts and steps are not touched; the run's summary JSON is written again with the
 * measures. Progress to stderr, the figures to stdout.
 */
export async function measureRun(store: Store, runId: string, sandboxName: "docker" | "process" | undefined, resultsDir: string): Promise<void> {
  const run = store.getRun(runId);
  const source = TaskSource.safeParse(run.config);
  if (!source.success) {
    throw new KoderzError("bad_input", `run ${runId} was not started by \`koderz benchmark\`: its config names no suite to read the problems from`, "measure a benchmark run; `koderz results list --kind benchmark` lists them");
  }
  if (source.data.reposDir !== undefined) {
    throw new KoderzError("usage", `run ${runId} ran SWE-bench instances: its final code is a patch to a repository, not a program to measure`, "measure a run of a function suite (HumanEval, a suite file of cases)");
  }
  const tasks = new Map((await loadConfiguredTasks(source.data)).map((task) => [task.id, task]));
  const sandbox = await openSandbox(sandboxName);
  try {
    const experiments = store.experiments(runId);
    let measured = 0;
    for (const experiment of experiments) {
      const task = tasks.get(experiment.problemId);
      if (!task) {
        process.stderr.write(`${experiment.problemId}: not in suite ${source.data.suite} any more, left as it was\n`);
        continue;
      }
      const measures = await measureExperiment({ sandbox, task, completion: experiment.finalCode ?? "", steps: store.steps(experiment.experimentId) });
      store.setMeasures(experiment.experimentId, measures);
      measured += 1;
      process.stderr.write(`measured ${measured}/${experiments.length}: ${experiment.arm} ${experiment.problemId}\n`);
    }
  } finally {
    await sandbox.close();
  }
  process.stderr.write(`summary: ${writeRunSummary(store, runId, resultsDir)}\n`);
  process.stdout.write(renderQualityFigures(armQuality(store, run)).trimStart());
}
