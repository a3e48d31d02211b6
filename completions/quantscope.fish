function __quantscope_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __quantscope_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __quantscope_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __quantscope_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __quantscope_parse_tokens -S
    set -l unparsed_tokens (__quantscope_tokens -pc)
    switch $unparsed_tokens[1]
    case 'quantscope'
        __quantscope_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'inspect'
            __quantscope_parse_subcommand -r 1 'json' 'markdown' 'tensors=' 'no-tensors' 'by-layer' 'full' 'q/quiet' 'color=' 'version' 'h/help'
        case 'diff'
            __quantscope_parse_subcommand 1 'ref=+' 'ref-precision=' 'sort=' 'top=' 'tensors=' 'imatrix=' 'json' 'csv' 'fail-above=+' 'threads=' 'report=' 'shard=' 'o/output=' 'force' 'q/quiet' 'progress=' 'color=' 'version' 'h/help'
        case 'audit'
            __quantscope_parse_subcommand 1 'ref=+' 'ref-precision=' 'imatrix=' 'tensors=' 'top=' 'json' 'threads=' 'report=' 'shard=' 'o/output=' 'force' 'q/quiet' 'progress=' 'color=' 'version' 'h/help'
        case 'compare'
            __quantscope_parse_subcommand 2 'json' 'tensors=' 'threads=' 'q/quiet' 'tensor-type-file=' 'force' 'color=' 'version' 'h/help'
        case 'requant'
            __quantscope_parse_subcommand 1 'o/output=' 'force' 'recipe=' 'rule=+' 'ref=+' 'ref-precision=' 'regenerate=' 'imatrix=' 'fallback=' 'mixes=' 'pure' 'leave-output-tensor' 'token-embedding-type=' 'output-tensor-type=' 'kv-b=' 'split-max-size=' 'only-split=' 'threads=' 'json' 'allow-non-finite' 'q/quiet' 'progress=' 'version' 'h/help'
        case 'recipes'
            __quantscope_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'list'
                __quantscope_parse_subcommand 0 'json' 'q/quiet' 'color=' 'version' 'h/help'
            case 'show'
                __quantscope_parse_subcommand 1 'blocks=' 'dense-blocks=' 'tied' 'experts=' 'arch=' 'json' 'q/quiet' 'format=' 'version' 'h/help'
            end
        case 'plan'
            __quantscope_parse_subcommand -r 1 'recipe=' 'rule=+' 'kv-b=' 'arch=' 'blocks=' 'fallback=' 'imatrix=' 'mixes=' 'pure' 'leave-output-tensor' 'token-embedding-type=' 'output-tensor-type=' 'tensors=' 'json' 'q/quiet' 'color=' 'tensor-type-file=' 'force' 'version' 'h/help'
        case 'tune'
            __quantscope_parse_subcommand -r 1 'ref=+' 'target-size=' 'target-bpw=' 'types=' 'imatrix=' 'sample=' 'calibration=' 'base=' 'fallback=' 'ref-precision=' 'kv-b=' 'arch=' 'pareto' 'pareto-points=' 'report=' 'o/output=' 'force' 'shard=' 'threads=' 'json' 'q/quiet' 'progress=' 'version' 'h/help'
        case 'decode'
            __quantscope_parse_subcommand -r 1 'tensor=+' 'tensors=' 'o/output=' 'force' 'format=' 'zstd' 'rows=' 'no-scale' 'ref=+' 'q/quiet' 'progress=' 'version' 'h/help'
        case 'stats'
            __quantscope_parse_subcommand -r 1 'tensors=' 'json' 'super-weights=' 'threads=' 'q/quiet' 'progress=' 'color=' 'version' 'h/help'
        case 'hash'
            __quantscope_parse_subcommand -r 1 'tensors=' 'o/output=' 'force' 'check=' 'json' 'shard=' 'threads=' 'q/quiet' 'progress=' 'color=' 'version' 'h/help'
        case 'verify'
            __quantscope_parse_subcommand -r 1 'deep' 'json' 'q/quiet' 'progress=' 'color=' 'version' 'h/help'
        case 'merge'
            __quantscope_parse_subcommand -r 1 'json' 'csv' 'report=' 'o/output=' 'force' 'q/quiet' 'progress=' 'color=' 'version' 'h/help'
        case 'attribute'
            __quantscope_parse_subcommand 2 'text=' 'llama-bin=' 'groups=+' 'ctx=' 'chunks=' 'threads=' 'parallel=' 'imatrix=' 'restore=' 'calibrate' 'o/output=' 'force' 'report=' 'keep-work=' 'json' 'q/quiet' 'progress=' 'version' 'h/help'
        case 'help'
            __quantscope_parse_subcommand -r 1 'version'
        end
    end
end

function __quantscope_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __quantscope_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __quantscope_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __quantscope_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__quantscope_tokens -p)
    if test -z "$(__quantscope_tokens -t)"
        set -l index (count (__quantscope_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'quantscope' -f
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'inspect' -d 'Show metadata, the tensor table and totals of GGUF or safetensors files.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'diff' -d 'Measure, tensor by tensor, what quantization lost against a reference.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'audit' -d 'Check, by reproduction, whether a GGUF is exactly what the reference weights make.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'compare' -d 'Compare the layout of two GGUF releases without decoding them.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'requant' -d 'Requantize the tensors a recipe selects; copy every other tensor unchanged.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'recipes' -d 'List and show the quantization recipes (mixes) that ship with quantscope.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'plan' -d 'Show the type, size and deciding rule of every tensor under a recipe, with totals.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'tune' -d 'Choose each tensor\'s type to minimize the measured error within a size budget; write the recipe.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'decode' -d 'Decode tensors to float32 and write them as .npy, raw floats or safetensors.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'stats' -d 'Per-tensor statistics: min, max, mean, std, RMS, kurtosis, zeros, NaN/Inf, super weights.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'hash' -d 'Hash every tensor\'s bytes (XXH3-128) and the whole model; write or check a manifest.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'verify' -d 'Check GGUF files and safetensors checkpoints for structural problems and, with --deep, NaN/Inf values.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'merge' -d 'Merge the partial results of a sharded run into the single run\'s output.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'attribute' -d 'Find which tensors cause a quantized model\'s accuracy drop, measured by llama-perplexity\'s KLD.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope inspect" json' -l 'json' -d 'Print one JSON document (first keys: schema, quantscope_version) instead of text.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope inspect" markdown' -l 'markdown' -d 'Print Markdown tables.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope inspect" tensors' -l 'tensors' -d 'Only tensors whose name matches this regular expression (anywhere in the name; an error if none does).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope inspect" no-tensors' -l 'no-tensors' -d 'Leave out the tensor table.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope inspect" by-layer' -l 'by-layer' -d 'One row per layer (blk.N / model.layers.N) instead of one per tensor.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope inspect" full' -l 'full' -d 'Print metadata arrays and strings in full.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope inspect" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope inspect" color' -l 'color' -d 'When to colour output: auto, always or never.' -rfka 'auto always never'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope inspect" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope inspect" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff"' -l 'ref' -d 'Reference: safetensors file, checkpoint directory, shards, or a GGUF.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" ref-precision' -l 'ref-precision' -d 'exact: FP8 * scale in double (default); bf16: the product rounded to bf16, as a BF16 GGUF holds it.' -rfka 'exact bf16'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" sort' -l 'sort' -d 'Sort tensors, layers and kinds: nmse (worst first), mse, cosine (lowest first), max_abs, name, file.' -rfka 'nmse mse cosine max_abs name file'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" top' -l 'top' -d 'Show only the N first tensors after sorting (also in the --report table).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" tensors' -l 'tensors' -d 'Only tensors whose name matches this regular expression (anywhere in the name; an error if none does).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" imatrix' -l 'imatrix' -d 'Importance matrix (llama.cpp GGUF imatrix or legacy .dat) to weight the error.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" json' -l 'json' -d 'Print one JSON document (first keys: schema, quantscope_version) instead of text.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" csv' -l 'csv' -d 'Print CSV (one row per tensor).'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff"' -l 'fail-above' -d 'Exit 2 when any tensor is worse than METRIC=VALUE (mse, rmse, nmse, nmse_db, max_abs, or cosine/snr_db: worse means lower), has NaN/Inf values, or no tensor is compared.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" threads' -l 'threads' -d 'Worker threads (default: all cores); results do not depend on it.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" report' -l 'report' -d 'Also write a self-contained HTML report (heatmaps, worst tensors) to this file.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" shard' -l 'shard' -d 'Do only shard K of N of the work (K from 1) and write its partial result to -o; \'quantscope merge\' makes the parts the single run\'s output.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" o output' -s 'o' -l 'output' -d 'With --shard: write the partial result to this file.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" force' -l 'force' -d 'Replace output files that exist.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" progress' -l 'progress' -d 'How to show progress on stderr.' -rfka 'auto always json none'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" color' -l 'color' -d 'When to colour output: auto, always or never.' -rfka 'auto always never'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope diff" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit"' -l 'ref' -d 'Reference: safetensors file, checkpoint directory, shards, or a GGUF.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" ref-precision' -l 'ref-precision' -d 'auto: per tensor exact, then BF16-rounded (default); exact: FP8 * scale in double; bf16: rounded to bf16.' -rfka 'exact bf16 auto'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" imatrix' -l 'imatrix' -d 'Importance matrix the release was quantized with (llama.cpp GGUF imatrix or legacy .dat).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" tensors' -l 'tensors' -d 'Only tensors whose name matches this regular expression (anywhere in the name; an error if none does).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" top' -l 'top' -d 'Show only the N first tensors of the table (worst first); the verdict covers all.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" json' -l 'json' -d 'Print one JSON document (first keys: schema, quantscope_version) instead of text.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" threads' -l 'threads' -d 'Worker threads (default: all cores); results do not depend on it.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" report' -l 'report' -d 'Also write a self-contained HTML report (the diff report with an audit section) to this file.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" shard' -l 'shard' -d 'Do only shard K of N of the work (K from 1) and write its partial result to -o; \'quantscope merge\' makes the parts the single run\'s output.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" o output' -s 'o' -l 'output' -d 'With --shard: write the partial result to this file.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" force' -l 'force' -d 'Replace output files that exist.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" progress' -l 'progress' -d 'How to show progress on stderr.' -rfka 'auto always json none'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" color' -l 'color' -d 'When to colour output: auto, always or never.' -rfka 'auto always never'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope audit" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope compare" json' -l 'json' -d 'Print one JSON document (first keys: schema, quantscope_version) instead of text.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope compare" tensors' -l 'tensors' -d 'Only tensors whose name matches this regular expression (anywhere in the name; an error if none does).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope compare" threads' -l 'threads' -d 'Worker threads (default: all cores); results do not depend on it.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope compare" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope compare" tensor-type-file' -l 'tensor-type-file' -d 'Also write the recipe difference (A to B) as a llama-quantize --tensor-type-file (\'-\': print only it).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope compare" force' -l 'force' -d 'Replace output files that exist.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope compare" color' -l 'color' -d 'When to colour output: auto, always or never.' -rfka 'auto always never'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope compare" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope compare" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" o output' -s 'o' -l 'output' -d 'Write the output to this file (see the description for \'-\' and .zst).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" force' -l 'force' -d 'Replace output files that exist.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" recipe' -l 'recipe' -d 'Preset name (see \'quantscope recipes list\') or recipe file.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant"' -l 'rule' -d 'PATTERN=TYPE rule, tried before the recipe\'s (repeatable).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant"' -l 'ref' -d 'Reference checkpoint to quantize from: safetensors file, directory or shards, or a GGUF.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" ref-precision' -l 'ref-precision' -d 'exact (default) or bf16: how FP8 * scale is evaluated.' -rfka 'exact bf16'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" regenerate' -l 'regenerate' -d 'changed: regenerate only tensors whose type changes (default); all: every quantized tensor the reference has.' -rfka 'changed all'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" imatrix' -l 'imatrix' -d 'Importance matrix (llama.cpp GGUF imatrix or legacy .dat).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" fallback' -l 'fallback' -d 'Row-length fallback table: current or llama2025 (default: that of --mixes).' -rfka 'current llama2025'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" mixes' -l 'mixes' -d 'Version of llama-quantize\'s mix rules: 0c1e570 (default, newest verified) or paper.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" pure' -l 'pure' -d 'As llama-quantize --pure: every quantizable tensor gets the file type\'s default type.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" leave-output-tensor' -l 'leave-output-tensor' -d 'As llama-quantize --leave-output-tensor: output.weight keeps its type.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" token-embedding-type' -l 'token-embedding-type' -d 'As llama-quantize --token-embedding-type: the type of token_embd.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" output-tensor-type' -l 'output-tensor-type' -d 'As llama-quantize --output-tensor-type: the type of output.weight.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" kv-b' -l 'kv-b' -d 'DeepSeek kv_b layout: split (attn_k_b + attn_v_b) or legacy (attn_kv_b).' -rfka 'split legacy'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" split-max-size' -l 'split-max-size' -d 'Split the output into shards of at most this much tensor data (50G = 50GB = 50*10^9 bytes; 48GiB = 48*2^30).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" only-split' -l 'only-split' -d 'With --split-max-size: write only split K (from 1) of the output set.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" threads' -l 'threads' -d 'Worker threads (default: all cores); results do not depend on it.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" json' -l 'json' -d 'Print one JSON document (first keys: schema, quantscope_version) instead of text.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" allow-non-finite' -l 'allow-non-finite' -d 'Quantize NaN/Inf source values (e.g. a NaN scale tile) as ggml does, and write NaN/Inf block scales, instead of refusing.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" progress' -l 'progress' -d 'How to show progress on stderr.' -rfka 'auto always json none'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope requant" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope recipes" -eq 1' -fa 'list' -d 'List the shipped presets.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_positional "quantscope recipes" -eq 1' -fa 'show' -d 'Print a preset\'s text: the template, or the rules expanded for a block count.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes list" json' -l 'json' -d 'Print one JSON document (first keys: schema, quantscope_version) instead of text.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes list" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes list" color' -l 'color' -d 'When to colour output: auto, always or never.' -rfka 'auto always never'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes list" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes show" blocks' -l 'blocks' -d 'Expand the template for a model with this many blocks.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes show" dense-blocks' -l 'dense-blocks' -d 'Leading dense (non-MoE) blocks of the model, for the MoE block sets (default 0; DeepSeek-V3: 3).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes show" tied' -l 'tied' -d 'The model has no output.weight (token embedding shared with the output).'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes show" experts' -l 'experts' -d 'Routed experts per MoE block (llama.cpp has rules for exactly 8).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes show" arch' -l 'arch' -d 'Check that the recipe is meant for this architecture (general.architecture).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes show" json' -l 'json' -d 'Print one JSON document (first keys: schema, quantscope_version) instead of text.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes show" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes show" format' -l 'format' -d 'Print the expanded rules as a llama-quantize --tensor-type-file (needs --blocks).' -rfka 'llama-quantize'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes show" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope recipes show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" recipe' -l 'recipe' -d 'Preset name (see \'quantscope recipes list\') or recipe file.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan"' -l 'rule' -d 'Extra PATTERN=TYPE rule, tried before the recipe\'s (repeatable).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" kv-b' -l 'kv-b' -d 'DeepSeek kv_b layout: split (attn_k_b + attn_v_b) or legacy (attn_kv_b).' -rfka 'split legacy'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" arch' -l 'arch' -d 'Architecture to plan for, instead of general.architecture.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" blocks' -l 'blocks' -d 'Block count, instead of <arch>.block_count.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" fallback' -l 'fallback' -d 'Row-length fallback table: current (Q2_K/Q3_K -> Q4_0) or llama2025 (-> IQ4_NL); default: --mixes\'s.' -rfka 'current llama2025'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" imatrix' -l 'imatrix' -d 'Importance matrix the quantization will use (some llama-quantize mixes choose differently with one).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" mixes' -l 'mixes' -d 'Version of llama-quantize\'s mix rules: 0c1e570 (default, newest verified) or paper.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" pure' -l 'pure' -d 'As llama-quantize --pure: every quantizable tensor gets the file type\'s default type.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" leave-output-tensor' -l 'leave-output-tensor' -d 'As llama-quantize --leave-output-tensor: output.weight keeps its type.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" token-embedding-type' -l 'token-embedding-type' -d 'As llama-quantize --token-embedding-type: the type of token_embd.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" output-tensor-type' -l 'output-tensor-type' -d 'As llama-quantize --output-tensor-type: the type of output.weight.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" tensors' -l 'tensors' -d 'Only tensors whose name matches this regular expression (anywhere in the name; an error if none does).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" json' -l 'json' -d 'Print one JSON document (first keys: schema, quantscope_version) instead of text.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" color' -l 'color' -d 'When to colour output: auto, always or never.' -rfka 'auto always never'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" tensor-type-file' -l 'tensor-type-file' -d 'Also write the decided types as a llama-quantize --tensor-type-file (\'-\': print it instead of the tables).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" force' -l 'force' -d 'Replace output files that exist.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope plan" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune"' -l 'ref' -d 'Reference checkpoint with the values: safetensors file, directory or shards, or a GGUF.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" target-size' -l 'target-size' -d 'Budget of tensor data: 250G = 250*10^9 bytes, 250GiB = 250*2^30 bytes, or bytes.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" target-bpw' -l 'target-bpw' -d 'Budget in bits per weight over all tensors.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" types' -l 'types' -d 'Candidate types, comma-separated (default q2_k,q3_k,q4_k,q5_k,q6_k,q8_0).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" imatrix' -l 'imatrix' -d 'Importance matrix: used by the quantizers and to weight the error.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" sample' -l 'sample' -d 'Quantize this fraction of rows (stratified sample, e.g. 0.02) instead of every row.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" calibration' -l 'calibration' -d 'Per-kind KLD per unit of error from \'attribute --calibrate\': minimize estimated KLD, not raw error.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" base' -l 'base' -d 'Recipe (preset or file) whose rules fix the tensors they name; the rest are tuned.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" fallback' -l 'fallback' -d 'Row-length fallback table: current (Q2_K/Q3_K -> Q4_0) or llama2025 (-> IQ4_NL).' -rfka 'current llama2025'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" ref-precision' -l 'ref-precision' -d 'exact (default) or bf16: how FP8 * scale is evaluated.' -rfka 'exact bf16'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" kv-b' -l 'kv-b' -d 'DeepSeek kv_b layout: split (attn_k_b + attn_v_b) or legacy (attn_kv_b).' -rfka 'split legacy'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" arch' -l 'arch' -d 'Architecture, instead of general.architecture or model_type.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" pareto' -l 'pareto' -d 'Also print the Pareto frontier (size against predicted error) at many budgets.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" pareto-points' -l 'pareto-points' -d 'Budgets on the --pareto frontier (default 24).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" report' -l 'report' -d 'Also write an HTML report: the Pareto curve with the presets marked, the chosen type map.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" o output' -s 'o' -l 'output' -d 'Write the output to this file (see the description for \'-\' and .zst).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" force' -l 'force' -d 'Replace output files that exist.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" shard' -l 'shard' -d 'Do only shard K of N of the work (K from 1) and write its partial result to -o; \'quantscope merge\' makes the parts the single run\'s output.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" threads' -l 'threads' -d 'Worker threads (default: all cores); results do not depend on it.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" json' -l 'json' -d 'Print one JSON document (first keys: schema, quantscope_version) instead of text.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" progress' -l 'progress' -d 'How to show progress on stderr.' -rfka 'auto always json none'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope tune" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope decode"' -l 'tensor' -d 'A tensor to decode, by exact name (repeatable).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope decode" tensors' -l 'tensors' -d 'Only tensors whose name matches this regular expression (anywhere in the name; an error if none does).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope decode" o output' -s 'o' -l 'output' -d 'Write the output to this file (see the description for \'-\' and .zst).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope decode" force' -l 'force' -d 'Replace output files that exist.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope decode" format' -l 'format' -d 'Output format: npy, f32, f16, bf16 (raw little-endian) or safetensors (F32). Default: from the output name, else npy (one tensor) or safetensors (several).' -rfka 'npy f32 f16 bf16 safetensors'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope decode" zstd' -l 'zstd' -d 'Compress the output with zstd (implied by a name ending in .zst).'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope decode" rows' -l 'rows' -d 'Decode only rows A:B (of the rows x row-length view; A: and :B allowed). One tensor only.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope decode" no-scale' -l 'no-scale' -d 'Write FP8 weights as stored, without multiplying by their scale partner.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope decode"' -l 'ref' -d 'Write the reference values diff compares with the selected GGUF tensors, laid out as them (safetensors file, checkpoint directory, shards, or a GGUF).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope decode" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope decode" progress' -l 'progress' -d 'How to show progress on stderr.' -rfka 'auto always json none'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope decode" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope decode" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope stats" tensors' -l 'tensors' -d 'Only tensors whose name matches this regular expression (anywhere in the name; an error if none does).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope stats" json' -l 'json' -d 'Print one JSON document (first keys: schema, quantscope_version) instead of text.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope stats" super-weights' -l 'super-weights' -d 'How many largest-magnitude weights (super weights) to report per tensor.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope stats" threads' -l 'threads' -d 'Worker threads (default: all cores); results do not depend on it.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope stats" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope stats" progress' -l 'progress' -d 'How to show progress on stderr.' -rfka 'auto always json none'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope stats" color' -l 'color' -d 'When to colour output: auto, always or never.' -rfka 'auto always never'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope stats" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope stats" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope hash" tensors' -l 'tensors' -d 'Only tensors whose name matches this regular expression (anywhere in the name; an error if none does).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope hash" o output' -s 'o' -l 'output' -d 'Write the output to this file (see the description for \'-\' and .zst).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope hash" force' -l 'force' -d 'Replace output files that exist.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope hash" check' -l 'check' -d 'Compare with this manifest; exit 2 if anything differs.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope hash" json' -l 'json' -d 'Print one JSON document (first keys: schema, quantscope_version) instead of text.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope hash" shard' -l 'shard' -d 'Do only shard K of N of the work (K from 1) and write its partial result to -o; \'quantscope merge\' makes the parts the single run\'s output.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope hash" threads' -l 'threads' -d 'Worker threads (default: all cores); results do not depend on it.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope hash" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope hash" progress' -l 'progress' -d 'How to show progress on stderr.' -rfka 'auto always json none'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope hash" color' -l 'color' -d 'When to colour output: auto, always or never.' -rfka 'auto always never'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope hash" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope hash" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope verify" deep' -l 'deep' -d 'Also scan tensor data for NaN and infinities, and quantized blocks\' scales.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope verify" json' -l 'json' -d 'Print one JSON document (first keys: schema, quantscope_version) instead of text.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope verify" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope verify" progress' -l 'progress' -d 'How to show progress on stderr.' -rfka 'auto always json none'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope verify" color' -l 'color' -d 'When to colour output: auto, always or never.' -rfka 'auto always never'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope verify" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope verify" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope merge" json' -l 'json' -d 'Print one JSON document (first keys: schema, quantscope_version) instead of text.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope merge" csv' -l 'csv' -d 'diff: print CSV (one row per tensor).'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope merge" report' -l 'report' -d 'diff, tune: also write the HTML report to this file (reopens the inputs).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope merge" o output' -s 'o' -l 'output' -d 'Write the output to this file (see the description for \'-\' and .zst).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope merge" force' -l 'force' -d 'Replace output files that exist.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope merge" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope merge" progress' -l 'progress' -d 'How to show progress on stderr.' -rfka 'auto always json none'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope merge" color' -l 'color' -d 'When to colour output: auto, always or never.' -rfka 'auto always never'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope merge" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope merge" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" text' -l 'text' -d 'The evaluation text given to llama-perplexity (-f).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" llama-bin' -l 'llama-bin' -d 'Directory holding llama-perplexity (default: PATH).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute"' -l 'groups' -d 'kind (default), layer, kind,layer, or regular expressions.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" ctx' -l 'ctx' -d 'Tokens per chunk (llama-perplexity -c).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" chunks' -l 'chunks' -d 'Chunks of the text to evaluate (default: all).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" threads' -l 'threads' -d 'Worker threads (default: all cores); results do not depend on it.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" parallel' -l 'parallel' -d 'Evaluations run at once; --threads is split between them.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" imatrix' -l 'imatrix' -d 'Importance matrix: weights the predicted error.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" restore' -l 'restore' -d 'Restore groups from BASE until the KLD is at most this fraction of CANDIDATE\'s.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" calibrate' -l 'calibrate' -d 'Fit the KLD per unit of predicted error for each tensor kind and write it to -o.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" o output' -s 'o' -l 'output' -d 'Write the output to this file (see the description for \'-\' and .zst).' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" force' -l 'force' -d 'Replace output files that exist.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" report' -l 'report' -d 'Write an HTML report with a bar chart and a scatter plot.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" keep-work' -l 'keep-work' -d 'Keep hybrids, logits and llama-perplexity logs in this directory.' -rfka ''
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" json' -l 'json' -d 'Print one JSON document (first keys: schema, quantscope_version) instead of text.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" q quiet' -s 'q' -l 'quiet' -d 'Print nothing on stderr but errors: no progress, no warnings.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" progress' -l 'progress' -d 'How to show progress on stderr.' -rfka 'auto always json none'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" version' -l 'version' -d 'Show the version.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope attribute" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'quantscope' -n '__quantscope_should_offer_completions_for_flags_or_options "quantscope help" version' -l 'version' -d 'Show the version.'
