#!/bin/bash

__quantscope_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__quantscope_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__quantscope_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__quantscope_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_quantscope() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __quantscope_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    inspect|diff|audit|compare|requant|recipes|plan|tune|decode|stats|hash|verify|merge|attribute|help)
        # Offer subcommand argument completions
        "_quantscope_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'inspect diff audit compare requant recipes plan tune decode stats hash verify merge attribute help' -- "${cur}"))
        ;;
    esac
}

_quantscope_inspect() {
    repeating_flags=()
    non_repeating_flags=(--json --markdown --no-tensors --by-layer --full -q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(--tensors --color)
    __quantscope_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--tensors')
        return
        ;;
    '--color')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    esac
}

_quantscope_diff() {
    repeating_flags=()
    non_repeating_flags=(--json --csv --force -q --quiet --version -h --help)
    repeating_options=(--ref --fail-above)
    non_repeating_options=(--ref-precision --sort --top --tensors --imatrix --threads --report --shard -o --output --progress --color)
    __quantscope_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--ref')
        return
        ;;
    '--ref-precision')
        __quantscope_add_completions -W 'exact'$'\n''bf16'
        return
        ;;
    '--sort')
        __quantscope_add_completions -W 'nmse'$'\n''mse'$'\n''cosine'$'\n''max_abs'$'\n''name'$'\n''file'
        return
        ;;
    '--top')
        return
        ;;
    '--tensors')
        return
        ;;
    '--imatrix')
        return
        ;;
    '--fail-above')
        return
        ;;
    '--threads')
        return
        ;;
    '--report')
        return
        ;;
    '--shard')
        return
        ;;
    '-o'|'--output')
        return
        ;;
    '--progress')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''json'$'\n''none'
        return
        ;;
    '--color')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    esac
}

_quantscope_audit() {
    repeating_flags=()
    non_repeating_flags=(--json --force -q --quiet --version -h --help)
    repeating_options=(--ref)
    non_repeating_options=(--ref-precision --imatrix --tensors --top --threads --report --shard -o --output --progress --color)
    __quantscope_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--ref')
        return
        ;;
    '--ref-precision')
        __quantscope_add_completions -W 'exact'$'\n''bf16'$'\n''auto'
        return
        ;;
    '--imatrix')
        return
        ;;
    '--tensors')
        return
        ;;
    '--top')
        return
        ;;
    '--threads')
        return
        ;;
    '--report')
        return
        ;;
    '--shard')
        return
        ;;
    '-o'|'--output')
        return
        ;;
    '--progress')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''json'$'\n''none'
        return
        ;;
    '--color')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    esac
}

_quantscope_compare() {
    repeating_flags=()
    non_repeating_flags=(--json -q --quiet --force --version -h --help)
    repeating_options=()
    non_repeating_options=(--tensors --threads --tensor-type-file --color)
    __quantscope_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--tensors')
        return
        ;;
    '--threads')
        return
        ;;
    '--tensor-type-file')
        return
        ;;
    '--color')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    esac
}

_quantscope_requant() {
    repeating_flags=()
    non_repeating_flags=(--force --pure --leave-output-tensor --json --allow-non-finite -q --quiet --version -h --help)
    repeating_options=(--rule --ref)
    non_repeating_options=(-o --output --recipe --ref-precision --regenerate --imatrix --fallback --mixes --token-embedding-type --output-tensor-type --kv-b --split-max-size --only-split --threads --progress)
    __quantscope_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '-o'|'--output')
        return
        ;;
    '--recipe')
        return
        ;;
    '--rule')
        return
        ;;
    '--ref')
        return
        ;;
    '--ref-precision')
        __quantscope_add_completions -W 'exact'$'\n''bf16'
        return
        ;;
    '--regenerate')
        __quantscope_add_completions -W 'changed'$'\n''all'
        return
        ;;
    '--imatrix')
        return
        ;;
    '--fallback')
        __quantscope_add_completions -W 'current'$'\n''llama2025'
        return
        ;;
    '--mixes')
        return
        ;;
    '--token-embedding-type')
        return
        ;;
    '--output-tensor-type')
        return
        ;;
    '--kv-b')
        __quantscope_add_completions -W 'split'$'\n''legacy'
        return
        ;;
    '--split-max-size')
        return
        ;;
    '--only-split')
        return
        ;;
    '--threads')
        return
        ;;
    '--progress')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''json'$'\n''none'
        return
        ;;
    esac
}

_quantscope_recipes() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __quantscope_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    list|show)
        # Offer subcommand argument completions
        "_quantscope_recipes_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'list show' -- "${cur}"))
        ;;
    esac
}

_quantscope_recipes_list() {
    repeating_flags=()
    non_repeating_flags=(--json -q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(--color)
    __quantscope_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--color')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    esac
}

_quantscope_recipes_show() {
    repeating_flags=()
    non_repeating_flags=(--tied --json -q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(--blocks --dense-blocks --experts --arch --format)
    __quantscope_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--blocks')
        return
        ;;
    '--dense-blocks')
        return
        ;;
    '--experts')
        return
        ;;
    '--arch')
        return
        ;;
    '--format')
        __quantscope_add_completions -W 'llama-quantize'
        return
        ;;
    esac
}

_quantscope_plan() {
    repeating_flags=()
    non_repeating_flags=(--pure --leave-output-tensor --json -q --quiet --force --version -h --help)
    repeating_options=(--rule)
    non_repeating_options=(--recipe --kv-b --arch --blocks --fallback --imatrix --mixes --token-embedding-type --output-tensor-type --tensors --color --tensor-type-file)
    __quantscope_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--recipe')
        return
        ;;
    '--rule')
        return
        ;;
    '--kv-b')
        __quantscope_add_completions -W 'split'$'\n''legacy'
        return
        ;;
    '--arch')
        return
        ;;
    '--blocks')
        return
        ;;
    '--fallback')
        __quantscope_add_completions -W 'current'$'\n''llama2025'
        return
        ;;
    '--imatrix')
        return
        ;;
    '--mixes')
        return
        ;;
    '--token-embedding-type')
        return
        ;;
    '--output-tensor-type')
        return
        ;;
    '--tensors')
        return
        ;;
    '--color')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    '--tensor-type-file')
        return
        ;;
    esac
}

_quantscope_tune() {
    repeating_flags=()
    non_repeating_flags=(--pareto --force --json -q --quiet --version -h --help)
    repeating_options=(--ref)
    non_repeating_options=(--target-size --target-bpw --types --imatrix --sample --calibration --base --fallback --ref-precision --kv-b --arch --pareto-points --report -o --output --shard --threads --progress)
    __quantscope_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--ref')
        return
        ;;
    '--target-size')
        return
        ;;
    '--target-bpw')
        return
        ;;
    '--types')
        return
        ;;
    '--imatrix')
        return
        ;;
    '--sample')
        return
        ;;
    '--calibration')
        return
        ;;
    '--base')
        return
        ;;
    '--fallback')
        __quantscope_add_completions -W 'current'$'\n''llama2025'
        return
        ;;
    '--ref-precision')
        __quantscope_add_completions -W 'exact'$'\n''bf16'
        return
        ;;
    '--kv-b')
        __quantscope_add_completions -W 'split'$'\n''legacy'
        return
        ;;
    '--arch')
        return
        ;;
    '--pareto-points')
        return
        ;;
    '--report')
        return
        ;;
    '-o'|'--output')
        return
        ;;
    '--shard')
        return
        ;;
    '--threads')
        return
        ;;
    '--progress')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''json'$'\n''none'
        return
        ;;
    esac
}

_quantscope_decode() {
    repeating_flags=()
    non_repeating_flags=(--force --zstd --no-scale -q --quiet --version -h --help)
    repeating_options=(--tensor --ref)
    non_repeating_options=(--tensors -o --output --format --rows --progress)
    __quantscope_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--tensor')
        return
        ;;
    '--tensors')
        return
        ;;
    '-o'|'--output')
        return
        ;;
    '--format')
        __quantscope_add_completions -W 'npy'$'\n''f32'$'\n''f16'$'\n''bf16'$'\n''safetensors'
        return
        ;;
    '--rows')
        return
        ;;
    '--ref')
        return
        ;;
    '--progress')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''json'$'\n''none'
        return
        ;;
    esac
}

_quantscope_stats() {
    repeating_flags=()
    non_repeating_flags=(--json -q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(--tensors --super-weights --threads --progress --color)
    __quantscope_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--tensors')
        return
        ;;
    '--super-weights')
        return
        ;;
    '--threads')
        return
        ;;
    '--progress')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''json'$'\n''none'
        return
        ;;
    '--color')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    esac
}

_quantscope_hash() {
    repeating_flags=()
    non_repeating_flags=(--force --json -q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(--tensors -o --output --check --shard --threads --progress --color)
    __quantscope_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--tensors')
        return
        ;;
    '-o'|'--output')
        return
        ;;
    '--check')
        return
        ;;
    '--shard')
        return
        ;;
    '--threads')
        return
        ;;
    '--progress')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''json'$'\n''none'
        return
        ;;
    '--color')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    esac
}

_quantscope_verify() {
    repeating_flags=()
    non_repeating_flags=(--deep --json -q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(--progress --color)
    __quantscope_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--progress')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''json'$'\n''none'
        return
        ;;
    '--color')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    esac
}

_quantscope_merge() {
    repeating_flags=()
    non_repeating_flags=(--json --csv --force -q --quiet --version -h --help)
    repeating_options=()
    non_repeating_options=(--report -o --output --progress --color)
    __quantscope_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--report')
        return
        ;;
    '-o'|'--output')
        return
        ;;
    '--progress')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''json'$'\n''none'
        return
        ;;
    '--color')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''never'
        return
        ;;
    esac
}

_quantscope_attribute() {
    repeating_flags=()
    non_repeating_flags=(--calibrate --force --json -q --quiet --version -h --help)
    repeating_options=(--groups)
    non_repeating_options=(--text --llama-bin --ctx --chunks --threads --parallel --imatrix --restore -o --output --report --keep-work --progress)
    __quantscope_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--text')
        return
        ;;
    '--llama-bin')
        return
        ;;
    '--groups')
        return
        ;;
    '--ctx')
        return
        ;;
    '--chunks')
        return
        ;;
    '--threads')
        return
        ;;
    '--parallel')
        return
        ;;
    '--imatrix')
        return
        ;;
    '--restore')
        return
        ;;
    '-o'|'--output')
        return
        ;;
    '--report')
        return
        ;;
    '--keep-work')
        return
        ;;
    '--progress')
        __quantscope_add_completions -W 'auto'$'\n''always'$'\n''json'$'\n''none'
        return
        ;;
    esac
}

_quantscope_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __quantscope_offer_flags_options -1
}

complete -o filenames -F _quantscope quantscope
