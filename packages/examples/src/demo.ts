// The SteadyStream demo. Until the CLI demo lands, this prints what it will show.
const prompt = process.argv.slice(2).join(" ") || "Tell me about the sea"
console.log(`SteadyStream demo — prompt: ${JSON.stringify(prompt)}`)
console.log("Coming next: the answer streamed from a local fake OpenAI server that injects a 429 and a")
console.log("mid-answer connection drop, recovered without a repeated or lost character.")
